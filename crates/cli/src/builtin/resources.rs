//! The built-in server's resources and resource templates.

use mcp_http_proto::{ReadResourceResult, Resource, ResourceTemplate};
use mcp_http_server::{ResourceDef, ServerBuilder, TemplateDef};

use super::TEST_IMAGE_BASE64;

fn blob_resource() -> ResourceDef {
    let mut resource =
        Resource::new("test://static-binary", "static-binary").with_mime_type("image/png");
    resource.description = Some("A static binary resource (image) for testing".into());
    ResourceDef::new(resource, |uri, _| async move {
        Ok(ReadResourceResult::blob(
            uri,
            "image/png",
            TEST_IMAGE_BASE64,
        ))
    })
}

fn template() -> TemplateDef {
    let mut template = ResourceTemplate::new("test://template/{id}/data", "template");
    template.mime_type = Some("application/json".into());
    template.description = Some("A resource template with parameter substitution".into());
    TemplateDef::new(template, |uri, vars, _| async move {
        let id = vars.get("id").cloned().unwrap_or_default();
        let text = serde_json::json!({ "id": id, "templateTest": true, "data": format!("Data for ID: {id}") });
        Ok(ReadResourceResult::text(
            uri,
            "application/json",
            text.to_string(),
        ))
    })
}

pub(super) fn register(b: ServerBuilder) -> ServerBuilder {
    b.resource(ResourceDef::text(
        "test://static-text",
        "static-text",
        "text/plain",
        "This is the content of the static text resource.",
    ))
    .resource(blob_resource())
    .resource(ResourceDef::text(
        "test://watched-resource",
        "watched-resource",
        "text/plain",
        "Watched resource content",
    ))
    .resource_template(template())
}
