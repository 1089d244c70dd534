//! Resources, resource templates, prompts and completion: what a server offers besides tools.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use mcp_http_core::{RequestContext, RequestError};
use mcp_http_proto::{
    CompleteRequestParams, CompleteResult, ErrorObject, GetPromptResult, Prompt,
    ReadResourceResult, Resource, ResourceTemplate,
};

use crate::uri_template::UriTemplate;

/// The failure of a resource read, a template read or a prompt: a JSON-RPC error, or a request
/// to the client that failed (`ctx.sample(..)?`, `ctx.elicit(..)?`, `ctx.roots()?`), kept intact
/// so the session can tell what happened. In the legacy era the latter is answered with the
/// JSON-RPC error [`RequestError::to_error_object`] gives.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum HandlerError {
    /// Answered as this JSON-RPC error.
    Rpc(ErrorObject),
    /// A request to the client failed.
    Request(RequestError),
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandlerError::Rpc(e) => e.fmt(f),
            HandlerError::Request(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for HandlerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HandlerError::Request(e) => Some(e),
            HandlerError::Rpc(_) => None,
        }
    }
}

impl From<ErrorObject> for HandlerError {
    fn from(e: ErrorObject) -> Self {
        HandlerError::Rpc(e)
    }
}

impl From<RequestError> for HandlerError {
    fn from(e: RequestError) -> Self {
        HandlerError::Request(e)
    }
}

/// The legacy era's answer to a failed handler.
impl From<HandlerError> for ErrorObject {
    fn from(e: HandlerError) -> Self {
        match e {
            HandlerError::Rpc(e) => e,
            HandlerError::Request(e) => e.to_error_object(),
        }
    }
}

type ReadFn = dyn Fn(String, RequestContext) -> BoxFuture<'static, Result<ReadResourceResult, HandlerError>>
    + Send
    + Sync;
type ReadTemplateFn = dyn Fn(
        String,
        HashMap<String, String>,
        RequestContext,
    ) -> BoxFuture<'static, Result<ReadResourceResult, HandlerError>>
    + Send
    + Sync;
type GetPromptFn = dyn Fn(
        HashMap<String, String>,
        RequestContext,
    ) -> BoxFuture<'static, Result<GetPromptResult, HandlerError>>
    + Send
    + Sync;
pub(crate) type CompleteFn = dyn Fn(
        CompleteRequestParams,
        RequestContext,
    ) -> BoxFuture<'static, Result<CompleteResult, ErrorObject>>
    + Send
    + Sync;

/// A resource with a fixed URI and the function that reads it.
#[derive(Clone)]
pub struct ResourceDef {
    pub(crate) resource: Resource,
    pub(crate) read: Arc<ReadFn>,
}

impl fmt::Debug for ResourceDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourceDef")
            .field("uri", &self.resource.uri)
            .finish_non_exhaustive()
    }
}

impl ResourceDef {
    /// A resource read by `read(uri, ctx)`.
    pub fn new<F, Fut>(resource: Resource, read: F) -> Self
    where
        F: Fn(String, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ReadResourceResult, HandlerError>> + Send + 'static,
    {
        ResourceDef {
            resource,
            read: Arc::new(move |uri, ctx| Box::pin(read(uri, ctx))),
        }
    }

    /// A resource whose content is a fixed text.
    ///
    /// ```
    /// use mcp_http_server::ResourceDef;
    /// let r = ResourceDef::text("test://hello", "hello", "text/plain", "Hello!");
    /// assert_eq!(r.resource().uri, "test://hello");
    /// ```
    pub fn text(uri: &str, name: &str, mime_type: &str, text: &str) -> Self {
        let resource = Resource::new(uri, name).with_mime_type(mime_type);
        let (mime, text) = (mime_type.to_owned(), text.to_owned());
        Self::new(resource, move |uri, _ctx| {
            let result = ReadResourceResult::text(uri, mime.clone(), text.clone());
            async move { Ok(result) }
        })
    }

    /// The resource as listed by `resources/list`.
    pub fn resource(&self) -> &Resource {
        &self.resource
    }
}

/// A resource template and the function that reads the URIs it matches.
#[derive(Clone)]
pub struct TemplateDef {
    pub(crate) template: ResourceTemplate,
    pub(crate) matcher: UriTemplate,
    pub(crate) read: Arc<ReadTemplateFn>,
}

impl fmt::Debug for TemplateDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TemplateDef")
            .field("uri_template", &self.template.uri_template)
            .finish_non_exhaustive()
    }
}

impl TemplateDef {
    /// A template read by `read(uri, variables, ctx)`.
    pub fn new<F, Fut>(template: ResourceTemplate, read: F) -> Self
    where
        F: Fn(String, HashMap<String, String>, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ReadResourceResult, HandlerError>> + Send + 'static,
    {
        let matcher = UriTemplate::parse(&template.uri_template);
        TemplateDef {
            template,
            matcher,
            read: Arc::new(move |uri, vars, ctx| Box::pin(read(uri, vars, ctx))),
        }
    }

    /// The template as listed by `resources/templates/list`.
    pub fn template(&self) -> &ResourceTemplate {
        &self.template
    }
}

/// A prompt and the function that renders it.
#[derive(Clone)]
pub struct PromptDef {
    pub(crate) prompt: Prompt,
    pub(crate) get: Arc<GetPromptFn>,
}

impl fmt::Debug for PromptDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PromptDef")
            .field("name", &self.prompt.name)
            .finish_non_exhaustive()
    }
}

impl PromptDef {
    /// A prompt rendered by `get(arguments, ctx)`. Arguments the prompt marks `required` are
    /// checked before `get` runs (-32602 naming the missing one).
    pub fn new<F, Fut>(prompt: Prompt, get: F) -> Self
    where
        F: Fn(HashMap<String, String>, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<GetPromptResult, HandlerError>> + Send + 'static,
    {
        PromptDef {
            prompt,
            get: Arc::new(move |args, ctx| Box::pin(get(args, ctx))),
        }
    }

    /// The prompt as listed by `prompts/list`.
    pub fn prompt(&self) -> &Prompt {
        &self.prompt
    }

    pub(crate) fn check_arguments(
        &self,
        args: &HashMap<String, String>,
    ) -> Result<(), ErrorObject> {
        for arg in self.prompt.arguments.iter().flatten() {
            if arg.required == Some(true) && !args.contains_key(&arg.name) {
                return Err(ErrorObject::invalid_params(format!(
                    "Invalid params: missing required argument `{}` of prompt `{}`",
                    arg.name, self.prompt.name
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    fn read_with_roots() -> Result<ReadResourceResult, HandlerError> {
        // What `ctx.roots().await?` does in a resource read when the client has no roots.
        Err(RequestError::CapabilityNotSupported("roots"))?
    }

    #[test]
    fn a_failed_request_to_the_client_is_kept_and_answered_as_its_error() {
        let error = read_with_roots().err();
        assert!(matches!(
            &error,
            Some(HandlerError::Request(RequestError::CapabilityNotSupported(
                "roots"
            )))
        ));
        assert!(error.as_ref().and_then(|e| e.source()).is_some());
        let answered = error.map(ErrorObject::from);
        assert_eq!(
            answered.map(|e| e.message),
            Some("the client did not declare the roots capability".to_owned())
        );
    }
}
