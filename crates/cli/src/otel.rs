//! OpenTelemetry export of the tracing spans (MT-5, the `otel` feature): the request and
//! session spans of the endpoint (MT-4), and any other span the filter lets through, go to an
//! OTLP/HTTP collector (protobuf), batched on the SDK's own thread.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::Layer;
use tracing_subscriber::registry::LookupSpan;

/// The spans exported when `MCP_HTTP_OTEL` does not say otherwise.
pub const DEFAULT_FILTER: &str = "info";

/// Why the exporter could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OtelError {
    /// The endpoint is not an http(s) URL.
    #[error("the OTLP endpoint must be an http:// or https:// URL, got {0:?}")]
    Endpoint(String),
    /// The OTLP exporter could not be built.
    #[error("cannot set up the OTLP exporter: {0}")]
    Exporter(String),
}

/// Keeps the exporter running; dropping it flushes the spans not sent yet and stops it.
#[derive(Debug)]
pub struct OtelGuard(SdkTracerProvider);

impl Drop for OtelGuard {
    fn drop(&mut self) {
        if let Err(e) = self.0.shutdown() {
            eprintln!("mcp-http: the last spans could not be exported: {e}");
        }
    }
}

/// The traces URL for `endpoint`: a base URL (`http://host:4318`) gets the standard
/// `/v1/traces` path; a URL with a path is used as it is.
pub fn traces_url(endpoint: &str) -> Result<String, OtelError> {
    let rest = endpoint
        .strip_prefix("http://")
        .or_else(|| endpoint.strip_prefix("https://"))
        .filter(|rest| !rest.is_empty())
        .ok_or_else(|| OtelError::Endpoint(endpoint.to_owned()))?;
    Ok(match rest.split_once('/') {
        None => format!("{endpoint}/v1/traces"),
        Some((_, "")) => format!("{endpoint}v1/traces"),
        Some(_) => endpoint.to_owned(),
    })
}

/// A tracing layer exporting spans to the OTLP/HTTP collector at `endpoint`, as service
/// `mcp-http` (`OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` override it), and the guard
/// that flushes them at exit. Call it outside any async runtime (the exporter's client blocks on
/// its own thread).
pub fn layer<S>(endpoint: &str) -> Result<(impl Layer<S> + use<S>, OtelGuard), OtelError>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    let url = traces_url(endpoint)?;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(url)
        .build()
        .map_err(|e| OtelError::Exporter(e.to_string()))?;
    let mut resource = Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name("mcp-http");
    }
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build();
    let tracer = provider.tracer("mcp-http");
    let layer = tracing_opentelemetry::layer().with_tracer(tracer);
    Ok((layer, OtelGuard(provider)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let url = |e: &str| traces_url(e).ok();
        assert_eq!(
            url("http://c:4318").as_deref(),
            Some("http://c:4318/v1/traces")
        );
        assert_eq!(
            url("http://c:4318/").as_deref(),
            Some("http://c:4318/v1/traces")
        );
        assert_eq!(
            url("https://c/otlp/v1/traces").as_deref(),
            Some("https://c/otlp/v1/traces")
        );
        assert!(url("c:4318").is_none());
        assert!(url("http://").is_none());
    }
}
