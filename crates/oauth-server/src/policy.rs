//! Which scopes an operation needs: scopes for every request, per JSON-RPC method, and
//! per tool, as the server author declares them.

use std::collections::HashMap;
use std::sync::Arc;

/// Scopes declared where tools are registered: tool name -> the scopes its calls need (AR-11).
pub(crate) type DeclaredFn = dyn Fn(&str) -> Vec<String> + Send + Sync;

/// The scopes each operation needs. An operation needs the union of the scopes for every
/// request, those of its method, and, for `tools/call`, those of the tool.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ScopePolicy {
    /// Needed by every request.
    pub always: Vec<String>,
    /// Needed by a JSON-RPC method (`tools/list`, `resources/read`, ...).
    pub methods: HashMap<String, Vec<String>>,
    /// Needed to call a tool, by tool name.
    pub tools: HashMap<String, Vec<String>>,
    /// Needed to call a tool, as declared with the tool (read at each call).
    pub(crate) declared: Option<Declared>,
}

/// [`DeclaredFn`], shareable and printable.
#[derive(Clone)]
pub(crate) struct Declared(pub(crate) Arc<DeclaredFn>);

impl std::fmt::Debug for Declared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Declared(..)")
    }
}

impl ScopePolicy {
    /// Whether any rule depends on the request's method or tool.
    pub(crate) fn per_operation(&self) -> bool {
        !self.methods.is_empty() || !self.tools.is_empty() || self.declared.is_some()
    }

    /// The scopes needed by the operations `ops` (method, tool name), sorted and unique.
    pub(crate) fn needed<'a>(
        &self,
        ops: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    ) -> Vec<String> {
        let mut needed: Vec<String> = self.always.clone();
        for (method, name) in ops {
            needed.extend(self.methods.get(method).into_iter().flatten().cloned());
            if method == "tools/call" {
                let tool = name.and_then(|n| self.tools.get(n));
                needed.extend(tool.into_iter().flatten().cloned());
                if let (Some(declared), Some(name)) = (&self.declared, name) {
                    needed.extend((declared.0)(name));
                }
            }
        }
        needed.sort();
        needed.dedup();
        needed
    }
}
