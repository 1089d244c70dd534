//! The built-in server's resources and resource templates.

use mcp_http_proto::{ReadResourceResult, Resource, ResourceContents, ResourceTemplate};
use mcp_http_server::{ResourceDef, ServerBuilder, TemplateDef};

use super::TEST_IMAGE_BASE64;

fn blob_resource() -> ResourceDef {
    let resource = Resource::new("test://static-binary", "static-binary")
        .with_mime_type("image/png")
        .with_description("A static binary resource (image) for testing");
    ResourceDef::new(resource, |uri, _| async move {
        Ok(ReadResourceResult::new(vec![ResourceContents::blob(uri, Some("image/png".into()), TEST_IMAGE_BASE64)]))
    })
}

fn template() -> TemplateDef {
    let template = ResourceTemplate::new("test://template/{id}/data", "template")
        .with_mime_type("application/json")
        .with_description("A resource template with parameter substitution");
    TemplateDef::new(template, |uri, vars, _| async move {
        let id = vars.get("id").cloned().unwrap_or_default();
        let text = serde_json::json!({ "id": id, "templateTest": true, "data": format!("Data for ID: {id}") });
        Ok(ReadResourceResult::text(uri, Some("application/json".into()), text.to_string()))
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
    .resource(ResourceDef::text("test://watched-resource", "watched-resource", "text/plain", "Watched resource content"))
    .resource_template(template())
}
