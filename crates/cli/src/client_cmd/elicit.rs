//! Answers to `elicitation/create`: asked field by field on a terminal, or by `--elicit`
//! (accept with the schema's defaults, or decline). Without a terminal and without `--elicit`,
//! the request is declined and stderr says why.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::{Arc, Mutex};

use mcp_http_client::proto::{ElicitRequestParams, ElicitResult, ErrorObject, JsonObject};
use serde_json::Value;

use super::progress::{Reporter, one_line};

/// `--elicit`: how to answer without asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ElicitChoice {
    /// Accept, with each field's `default` from the requested schema.
    AcceptDefaults,
    /// Decline every request.
    Decline,
}

/// How this run answers elicitation requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Elicit {
    /// Ask on the terminal (stdin and stderr are both terminals).
    Ask,
    /// `--elicit accept-defaults`.
    AcceptDefaults,
    /// `--elicit decline`.
    Decline,
    /// No terminal and no `--elicit`.
    DeclineNoTerminal,
}

impl Elicit {
    /// The mode for `--elicit` (or its absence) on this process's stdin and stderr.
    pub(crate) fn new(choice: Option<ElicitChoice>) -> Self {
        match choice {
            Some(ElicitChoice::AcceptDefaults) => Elicit::AcceptDefaults,
            Some(ElicitChoice::Decline) => Elicit::Decline,
            None if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() => {
                Elicit::Ask
            }
            None => Elicit::DeclineNoTerminal,
        }
    }
}

/// One prompt at a time on the terminal, whatever the number of concurrent requests.
static TERMINAL: Mutex<()> = Mutex::new(());

/// Answers one request. Accepted forms get the schema's defaults for fields left out (the client
/// is built with `apply_elicitation_defaults`).
pub(crate) async fn answer(
    mode: Elicit,
    params: ElicitRequestParams,
    reporter: Arc<Reporter>,
) -> Result<ElicitResult, ErrorObject> {
    let ElicitRequestParams::Form(form) = params else {
        // URL mode is not declared, so a conforming server does not send it.
        return Ok(ElicitResult::decline());
    };
    let message = one_line(&form.message);
    match mode {
        Elicit::AcceptDefaults => {
            reporter.line(&format!(
                "elicitation: {message:?}: accepted with the schema's defaults (--elicit accept-defaults)"
            ));
            Ok(ElicitResult::accept(JsonObject::new()))
        }
        Elicit::Decline => {
            reporter.line(&format!(
                "elicitation: {message:?}: declined (--elicit decline)"
            ));
            Ok(ElicitResult::decline())
        }
        Elicit::DeclineNoTerminal => {
            reporter.line(&format!(
                "elicitation: {message:?}: declined, no terminal to ask on (use --elicit accept-defaults or --elicit decline)"
            ));
            Ok(ElicitResult::decline())
        }
        Elicit::Ask => {
            let schema = form.requested_schema;
            let asked = tokio::task::spawn_blocking(move || {
                let _turn = mcp_http_core::sync::lock(&TERMINAL);
                reporter.suspend(|| {
                    let stdin = std::io::stdin();
                    let mut input = stdin.lock();
                    let mut out = std::io::stderr().lock();
                    ask(&form.message, &schema, &mut input, &mut out)
                })
            })
            .await;
            match asked {
                Ok(Ok(result)) => Ok(result),
                // A terminal that cannot be read is as good as the user walking away.
                _ => Ok(ElicitResult::cancel()),
            }
        }
    }
}

/// Asks the user, field by field, on `out`, reading answers from `input`. End of input cancels.
pub(crate) fn ask(
    message: &str,
    schema: &JsonObject,
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> std::io::Result<ElicitResult> {
    writeln!(out, "The server asks: {message}")?;
    loop {
        write!(out, "Answer? [Y]es, [n]o to decline, [c]ancel: ")?;
        out.flush()?;
        let Some(reply) = read_line(input)? else {
            return Ok(ElicitResult::cancel());
        };
        match reply.trim().to_ascii_lowercase().as_str() {
            "" | "y" | "yes" => break,
            "n" | "no" => return Ok(ElicitResult::decline()),
            "c" | "cancel" => return Ok(ElicitResult::cancel()),
            _ => writeln!(out, "  please answer y, n or c")?,
        }
    }
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut content = JsonObject::new();
    let empty = JsonObject::new();
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for (name, property) in properties {
        let field = Field::new(name, property, required.contains(&name.as_str()));
        loop {
            write!(out, "  {}: ", field.prompt())?;
            out.flush()?;
            let Some(reply) = read_line(input)? else {
                return Ok(ElicitResult::cancel());
            };
            match field.parse(&reply) {
                Ok(Some(value)) => {
                    content.insert(name.clone(), value);
                    break;
                }
                Ok(None) => break,
                Err(problem) => writeln!(out, "    {problem}")?,
            }
        }
    }
    Ok(ElicitResult::accept(content))
}

fn read_line(input: &mut impl BufRead) -> std::io::Result<Option<String>> {
    let mut line = String::new();
    if input.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    Ok(Some(line.trim_end_matches(['\n', '\r']).to_owned()))
}

/// One field of a form schema: a string (maybe with choices), a number, an integer, a boolean,
/// or an array of choices.
struct Field<'a> {
    name: &'a str,
    property: &'a Value,
    required: bool,
    ty: &'a str,
    /// Allowed values and their titles (`enum`, `oneOf`/`anyOf` of `const`, or the same under
    /// `items` for an array).
    choices: Vec<(String, Option<String>)>,
}

fn choices_of(schema: &Value) -> Vec<(String, Option<String>)> {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let names = schema.get("enumNames").and_then(Value::as_array);
        return values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                let title = names
                    .and_then(|n| n.get(i))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                v.as_str().map(|s| (s.to_owned(), title))
            })
            .collect();
    }
    let options = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array);
    options
        .into_iter()
        .flatten()
        .filter_map(|o| {
            let value = o.get("const").and_then(Value::as_str)?;
            let title = o.get("title").and_then(Value::as_str).map(str::to_owned);
            Some((value.to_owned(), title))
        })
        .collect()
}

impl<'a> Field<'a> {
    fn new(name: &'a str, property: &'a Value, required: bool) -> Self {
        let ty = property
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("string");
        let choices = match ty {
            "array" => property.get("items").map(choices_of).unwrap_or_default(),
            _ => choices_of(property),
        };
        Field {
            name,
            property,
            required,
            ty,
            choices,
        }
    }

    fn prompt(&self) -> String {
        let mut notes = vec![match self.ty {
            "boolean" => "y/n".to_owned(),
            "array" => "comma-separated".to_owned(),
            other => other.to_owned(),
        }];
        if !self.choices.is_empty() {
            let list: Vec<String> = self
                .choices
                .iter()
                .map(|(value, title)| match title {
                    Some(title) if title != value => format!("{value} = {title}"),
                    _ => value.clone(),
                })
                .collect();
            notes.push(format!("one of: {}", list.join(", ")));
        }
        if let Some(default) = self.property.get("default") {
            let shown = match default {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            notes.push(format!("default {shown}"));
        } else if self.required {
            notes.push("required".to_owned());
        }
        let title = self
            .property
            .get("title")
            .or_else(|| self.property.get("description"))
            .and_then(Value::as_str)
            .map(|t| format!(" - {}", one_line(t)))
            .unwrap_or_default();
        format!("{} ({}){title}", self.name, notes.join("; "))
    }

    fn choice(&self, reply: &str) -> Result<String, String> {
        if self.choices.is_empty() {
            return Ok(reply.to_owned());
        }
        self.choices
            .iter()
            .find(|(value, title)| value == reply || title.as_deref() == Some(reply))
            .map(|(value, _)| value.clone())
            .ok_or_else(|| {
                let values: Vec<&str> = self.choices.iter().map(|(v, _)| v.as_str()).collect();
                format!("expected one of: {}", values.join(", "))
            })
    }

    /// The value for a reply: `None` to leave the field out (empty reply, optional field; the
    /// default, if any, is filled in afterwards).
    fn parse(&self, reply: &str) -> Result<Option<Value>, String> {
        let reply = reply.trim();
        if reply.is_empty() {
            return if self.required && self.property.get("default").is_none() {
                Err("a value is required".to_owned())
            } else {
                Ok(None)
            };
        }
        let value = match self.ty {
            "boolean" => match reply.to_ascii_lowercase().as_str() {
                "y" | "yes" | "true" => Value::Bool(true),
                "n" | "no" | "false" => Value::Bool(false),
                _ => return Err("expected y or n".to_owned()),
            },
            "integer" => reply
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| "expected a whole number".to_owned())?,
            "number" => match serde_json::from_str::<Value>(reply) {
                Ok(n @ Value::Number(_)) => n,
                _ => return Err("expected a number".to_owned()),
            },
            "array" => Value::Array(
                reply
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| self.choice(s).map(Value::String))
                    .collect::<Result<_, _>>()?,
            ),
            _ => Value::String(self.choice(reply)?),
        };
        Ok(Some(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_http_client::proto::ElicitAction;
    use serde_json::json;

    fn run(schema: Value, typed: &str) -> (ElicitResult, String) {
        let schema = schema.as_object().cloned().unwrap_or_default();
        let mut out = Vec::new();
        let result = ask("Who?", &schema, &mut typed.as_bytes(), &mut out);
        (
            result.unwrap_or_else(|_| ElicitResult::cancel()),
            String::from_utf8_lossy(&out).into_owned(),
        )
    }

    #[test]
    fn fields_are_asked_with_types_defaults_and_retries() {
        let schema = json!({"type": "object", "properties": {
            "age": {"type": "integer", "description": "Your age"},
            "name": {"type": "string", "title": "Name"},
            "proceed": {"type": "boolean", "default": true},
            "status": {"type": "string", "enum": ["on", "off"]},
            "tags": {"type": "array", "items": {"anyOf": [{"const": "a", "title": "A"}, {"const": "b"}]}}
        }, "required": ["name", "age"]});
        let (result, shown) = run(schema, "y\nold\n42\n\nRusty\n\nmaybe\noff\nA, b\n");
        assert_eq!(result.action, ElicitAction::Accept);
        assert_eq!(
            Value::Object(result.content.unwrap_or_default()),
            json!({"age": 42, "name": "Rusty", "status": "off", "tags": ["a", "b"]})
        );
        assert!(shown.contains("The server asks: Who?"), "{shown}");
        assert!(
            shown.contains("age (integer; required) - Your age: "),
            "{shown}"
        );
        assert!(shown.contains("expected a whole number"), "{shown}");
        assert!(shown.contains("a value is required"), "{shown}");
        assert!(shown.contains("proceed (y/n; default true): "), "{shown}");
        assert!(shown.contains("expected one of: on, off"), "{shown}");
    }

    #[test]
    fn the_user_can_decline_or_cancel() {
        let schema = json!({"type": "object", "properties": {"name": {"type": "string"}}});
        assert_eq!(run(schema.clone(), "n\n").0.action, ElicitAction::Decline);
        assert_eq!(run(schema.clone(), "c\n").0.action, ElicitAction::Cancel);
        // End of input in the middle of the form cancels.
        assert_eq!(run(schema, "y\n").0.action, ElicitAction::Cancel);
    }
}
