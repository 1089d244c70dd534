//! Values of every message definition, per schema version, built from the fixtures.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

// ---------------------------------------------------------------------------------------------
// Instances per definition

pub(crate) type Instances = BTreeMap<String, Vec<Value>>;

thread_local! {
    /// Error envelopes serialized with `"id": null`, checked in `null_error_id_is_outside_the_schema`.
    pub(crate) static NULL_ID_ERRORS: std::cell::RefCell<Vec<Value>> = const { std::cell::RefCell::new(Vec::new()) };
}

pub(crate) fn add(map: &mut Instances, name: &str, value: Value) {
    map.entry(name.to_owned()).or_default().push(value);
}

/// Messages that exist, with the same shape, in both versions.
pub(crate) fn common(fx: &Fx, m: &mut Instances) {
    // tools
    add(
        m,
        "ListToolsRequest",
        request(method::TOOLS_LIST, Some(&fx.paginated())),
    );
    let mut list_tools = ListToolsResult::new(vec![fx.tool(), Tool::new("no_args", Value::Null)]);
    list_tools.meta = fx.result_meta();
    list_tools.next_cursor = fx.cursor();
    list_tools.result_type = fx.result_type();
    list_tools.ttl_ms = fx.ttl();
    list_tools.cache_scope = fx.cache_scope();
    add(m, "ListToolsResult", rt(&list_tools));
    add(
        m,
        "CallToolRequest",
        request(method::TOOLS_CALL, Some(&fx.call_tool_params())),
    );
    for r in fx.call_tool_results() {
        add(m, "CallToolResult", rt(&r));
    }
    add(
        m,
        "ToolListChangedNotification",
        notification(
            method::NOTIFICATION_TOOLS_LIST_CHANGED,
            Some(&NotificationParams::default().with_meta(fx.notif_meta().unwrap())),
        ),
    );
    add(
        m,
        "ToolListChangedNotification",
        notification::<NotificationParams>(method::NOTIFICATION_TOOLS_LIST_CHANGED, None),
    );

    // resources
    add(
        m,
        "ListResourcesRequest",
        request(method::RESOURCES_LIST, Some(&fx.paginated())),
    );
    let mut list_resources =
        ListResourcesResult::new(vec![fx.resource(), Resource::new("file:///a", "a")]);
    list_resources.meta = fx.result_meta();
    list_resources.next_cursor = fx.cursor();
    list_resources.result_type = fx.result_type();
    list_resources.ttl_ms = fx.ttl();
    list_resources.cache_scope = fx.cache_scope();
    add(m, "ListResourcesResult", rt(&list_resources));
    add(
        m,
        "ListResourceTemplatesRequest",
        request(method::RESOURCES_TEMPLATES_LIST, Some(&fx.paginated())),
    );
    let mut list_templates = ListResourceTemplatesResult::new(vec![fx.template()]);
    list_templates.meta = fx.result_meta();
    list_templates.next_cursor = fx.cursor();
    list_templates.result_type = fx.result_type();
    list_templates.ttl_ms = fx.ttl();
    list_templates.cache_scope = fx.cache_scope();
    add(m, "ListResourceTemplatesResult", rt(&list_templates));
    let mut read = ReadResourceRequestParams::new("file:///project/readme.md");
    read.meta = fx.req_meta();
    read.input_responses = fx.input_responses();
    read.request_state = fx.modern().then(|| "s".into());
    add(
        m,
        "ReadResourceRequest",
        request(method::RESOURCES_READ, Some(&read)),
    );
    add(m, "ReadResourceResult", rt(&fx.read_resource_result()));
    add(
        m,
        "ResourceUpdatedNotification",
        notification(
            method::NOTIFICATION_RESOURCES_UPDATED,
            Some(
                &ResourceUpdatedNotificationParams::new("file:///project/readme.md")
                    .with_meta(fx.notif_meta().unwrap()),
            ),
        ),
    );
    add(
        m,
        "ResourceListChangedNotification",
        notification(
            method::NOTIFICATION_RESOURCES_LIST_CHANGED,
            Some(&NotificationParams::default().with_meta(fx.notif_meta().unwrap())),
        ),
    );

    // prompts
    add(
        m,
        "ListPromptsRequest",
        request(method::PROMPTS_LIST, Some(&fx.paginated())),
    );
    let mut list_prompts = ListPromptsResult::new(vec![fx.prompt(), Prompt::new("bare")]);
    list_prompts.meta = fx.result_meta();
    list_prompts.next_cursor = fx.cursor();
    list_prompts.result_type = fx.result_type();
    list_prompts.ttl_ms = fx.ttl();
    list_prompts.cache_scope = fx.cache_scope();
    add(m, "ListPromptsResult", rt(&list_prompts));
    let mut get = GetPromptRequestParams::new("code_review")
        .with_arguments(BTreeMap::from([("code".into(), "fn main() {}".into())]));
    get.meta = fx.req_meta();
    get.input_responses = fx.input_responses();
    get.request_state = fx.modern().then(|| "s".into());
    add(
        m,
        "GetPromptRequest",
        request(method::PROMPTS_GET, Some(&get)),
    );
    add(m, "GetPromptResult", rt(&fx.get_prompt_result()));
    add(
        m,
        "PromptListChangedNotification",
        notification(
            method::NOTIFICATION_PROMPTS_LIST_CHANGED,
            Some(&NotificationParams::default().with_meta(fx.notif_meta().unwrap())),
        ),
    );

    // completion
    for p in fx.complete_params() {
        add(
            m,
            "CompleteRequest",
            request(method::COMPLETION_COMPLETE, Some(&p)),
        );
    }
    let mut complete = CompleteResult::new(vec!["python".into(), "pytorch".into()]);
    complete.meta = fx.result_meta();
    complete.result_type = fx.result_type();
    add(m, "CompleteResult", rt(&complete));

    // logging, progress, cancellation
    for (i, level) in LoggingLevel::ALL.into_iter().enumerate() {
        let mut p = LoggingMessageNotificationParams::new(
            level,
            if i % 2 == 0 {
                json!("a message")
            } else {
                json!({"error": "x", "n": 1.5, "none": null})
            },
        );
        p.logger = Some("db".into());
        p.meta = fx.notif_meta();
        add(
            m,
            "LoggingMessageNotification",
            notification(method::NOTIFICATION_MESSAGE, Some(&p)),
        );
    }
    let mut progress = ProgressNotificationParams::new(RequestId::from("tok-1"), 0.5, Some(1.0))
        .with_message("Halfway");
    progress.meta = fx.notif_meta();
    add(
        m,
        "ProgressNotification",
        notification(method::NOTIFICATION_PROGRESS, Some(&progress)),
    );
    add(
        m,
        "ProgressNotification",
        notification(
            method::NOTIFICATION_PROGRESS,
            Some(&ProgressNotificationParams::new(
                RequestId::Number(4),
                3.0,
                None,
            )),
        ),
    );
    let mut cancelled =
        CancelledNotificationParams::new(RequestId::Number(7), Some("User aborted".into()));
    cancelled.meta = fx.notif_meta();
    add(
        m,
        "CancelledNotification",
        notification(method::NOTIFICATION_CANCELLED, Some(&cancelled)),
    );

    // results of server-to-client requests (2025-11-25) / input responses (2026-07-28)
    add(m, "CreateMessageResult", rt(&fx.create_message_result()));
    let mut single = fx.create_message_result();
    single.content = SamplingContent::Single(SamplingMessageContentBlock::text("It is sunny."));
    single.stop_reason = Some("endTurn".into());
    add(m, "CreateMessageResult", rt(&single));
    add(m, "ListRootsResult", rt(&fx.list_roots_result()));
    for r in fx.elicit_results() {
        add(m, "ElicitResult", rt(&r));
    }
    let mut empty = EmptyResult::default();
    empty.meta = fx.result_meta();
    empty.result_type = fx.result_type();
    add(m, "EmptyResult", rt(&empty));
    // The abstract base, as a member of the ClientResult/ServerResult unions.
    add(m, "Result", rt(&empty));
}

pub(crate) fn legacy_only(fx: &Fx, m: &mut Instances) {
    let init =
        InitializeRequestParams::new("2025-11-25", fx.client_caps(), fx.implementation("client"))
            .with_meta(fx.req_meta().unwrap());
    add(
        m,
        "InitializeRequest",
        request(method::INITIALIZE, Some(&init)),
    );
    let mut result =
        InitializeResult::new("2025-11-25", fx.server_caps(), fx.implementation("server"));
    result.instructions = Some("Use the weather tool.".into());
    result.meta = fx.result_meta();
    add(m, "InitializeResult", rt(&result));
    add(
        m,
        "InitializedNotification",
        notification(
            method::NOTIFICATION_INITIALIZED,
            Some(&NotificationParams::default().with_meta(fx.notif_meta().unwrap())),
        ),
    );
    add(
        m,
        "PingRequest",
        request::<RequestParams>(method::PING, None),
    );
    add(
        m,
        "PingRequest",
        request(
            method::PING,
            Some(&RequestParams::default().with_meta(fx.req_meta().unwrap())),
        ),
    );
    add(
        m,
        "SetLevelRequest",
        request(
            method::LOGGING_SET_LEVEL,
            Some(
                &SetLevelRequestParams::new(LoggingLevel::Warning)
                    .with_meta(fx.req_meta().unwrap()),
            ),
        ),
    );
    add(
        m,
        "SubscribeRequest",
        request(
            method::RESOURCES_SUBSCRIBE,
            Some(
                &SubscribeRequestParams::new("file:///project/readme.md")
                    .with_meta(fx.req_meta().unwrap()),
            ),
        ),
    );
    add(
        m,
        "UnsubscribeRequest",
        request(
            method::RESOURCES_UNSUBSCRIBE,
            Some(
                &UnsubscribeRequestParams::new("file:///project/readme.md")
                    .with_meta(fx.req_meta().unwrap()),
            ),
        ),
    );
    add(
        m,
        "RootsListChangedNotification",
        notification(
            method::NOTIFICATION_ROOTS_LIST_CHANGED,
            Some(&NotificationParams::default().with_meta(fx.notif_meta().unwrap())),
        ),
    );
    // server-to-client requests, as JSON-RPC requests
    add(
        m,
        "CreateMessageRequest",
        request(
            method::SAMPLING_CREATE_MESSAGE,
            Some(&fx.create_message_params()),
        ),
    );
    add(
        m,
        "ListRootsRequest",
        request::<RequestParams>(method::ROOTS_LIST, None),
    );
    add(
        m,
        "ListRootsRequest",
        request(
            method::ROOTS_LIST,
            Some(&RequestParams::default().with_meta(fx.req_meta().unwrap())),
        ),
    );
    add(
        m,
        "ElicitRequest",
        request(method::ELICITATION_CREATE, Some(&fx.elicit_form())),
    );
    add(
        m,
        "ElicitRequest",
        request(
            method::ELICITATION_CREATE,
            Some(&ElicitRequestParams::Url(fx.url_params())),
        ),
    );
    add(
        m,
        "ElicitationCompleteNotification",
        notification(
            method::NOTIFICATION_ELICITATION_COMPLETE,
            Some(&ElicitationCompleteNotificationParams::new("el-1")),
        ),
    );

    // tasks
    let id = TaskIdParams::new("task-1");
    add(m, "GetTaskRequest", request(method::TASKS_GET, Some(&id)));
    add(
        m,
        "GetTaskPayloadRequest",
        request(method::TASKS_RESULT, Some(&id)),
    );
    add(
        m,
        "CancelTaskRequest",
        request(method::TASKS_CANCEL, Some(&id)),
    );
    add(
        m,
        "ListTasksRequest",
        request(method::TASKS_LIST, Some(&fx.paginated())),
    );
    let task_result = GetTaskResult::new(fx.task()).with_meta(fx.result_meta().unwrap());
    add(m, "GetTaskResult", rt(&task_result));
    let mut cancelled = fx.task();
    cancelled.status = TaskStatus::Cancelled;
    cancelled.ttl = Some(30_000);
    add(
        m,
        "CancelTaskResult",
        rt(&CancelTaskResult::new(cancelled).with_meta(fx.result_meta().unwrap())),
    );
    add(
        m,
        "CreateTaskResult",
        rt(&CreateTaskResult::new(fx.task()).with_meta(fx.result_meta().unwrap())),
    );
    let payload = rt(&fx.call_tool_results()[0]);
    let payload: GetTaskPayloadResult = serde_json::from_value(payload).unwrap();
    assert!(payload.meta.is_some() && payload.payload.contains_key("content"));
    add(m, "GetTaskPayloadResult", rt(&payload));
    add(
        m,
        "ListTasksResult",
        rt(&ListTasksResult::new(vec![fx.task()])
            .with_meta(fx.result_meta().unwrap())
            .with_next_cursor(fx.cursor().unwrap())),
    );
    let mut status = fx.task();
    status.status = TaskStatus::InputRequired;
    add(
        m,
        "TaskStatusNotification",
        notification(
            method::NOTIFICATION_TASKS_STATUS,
            Some(&TaskStatusNotificationParams::new(status).with_meta(fx.notif_meta().unwrap())),
        ),
    );
    // A task-augmented call, and the corresponding results.
    add(
        m,
        "CallToolRequest",
        request(
            method::TOOLS_CALL,
            Some(&CallToolRequestParams::new("slow", json!({})).with_task(TaskMetadata::default())),
        ),
    );
}

pub(crate) fn modern_only(fx: &Fx, m: &mut Instances) {
    add(
        m,
        "DiscoverRequest",
        request(
            method::SERVER_DISCOVER,
            Some(&RequestParams::default().with_meta(fx.req_meta().unwrap())),
        ),
    );
    let mut discover = DiscoverResult::new(
        vec!["2025-11-25".into(), "2026-07-28".into()],
        fx.server_caps(),
    )
    .with_instructions("Use the weather tool.")
    .with_cache_scope(CacheScope::Public);
    discover.meta = fx.result_meta();
    discover.result_type = fx.result_type();
    discover.ttl_ms = fx.ttl();
    add(m, "DiscoverResult", rt(&discover));
    let filter = SubscriptionFilter::default()
        .with_tools_list_changed(true)
        .with_prompts_list_changed(false)
        .with_resources_list_changed(true)
        .with_resource_subscriptions(vec!["file:///project/readme.md".into()]);
    add(
        m,
        "SubscriptionsListenRequest",
        request(
            method::SUBSCRIPTIONS_LISTEN,
            Some(
                &SubscriptionsListenRequestParams::new(filter.clone())
                    .with_meta(fx.req_meta().unwrap()),
            ),
        ),
    );
    let mut acknowledged = filter;
    acknowledged.prompts_list_changed = None;
    add(
        m,
        "SubscriptionsAcknowledgedNotification",
        notification(
            method::NOTIFICATION_SUBSCRIPTIONS_ACKNOWLEDGED,
            Some(
                &SubscriptionsAcknowledgedNotificationParams::new(acknowledged)
                    .with_meta(fx.notif_meta().unwrap()),
            ),
        ),
    );
    let mut listen = SubscriptionsListenResult::new(&RequestId::Number(3));
    if let Some(meta) = listen.meta.as_mut() {
        meta.insert(
            mcp_http_proto::modern::META_SERVER_INFO.into(),
            serde_json::to_value(fx.implementation("server")).unwrap(),
        );
        let view: mcp_http_proto::modern::SubscriptionsListenResultMetaObject =
            serde_json::from_value(Value::Object(meta.clone())).unwrap();
        assert_eq!(view.subscription_id, RequestId::Number(3));
        rt(&view);
    }
    add(m, "SubscriptionsListenResult", rt(&listen));
    // CacheableResult is the base of the list/read/discover results.
    for from in [
        "ListToolsResult",
        "ListResourcesResult",
        "ListResourceTemplatesResult",
        "ListPromptsResult",
        "ReadResourceResult",
        "DiscoverResult",
    ] {
        let results = m[from].clone();
        for r in results {
            add(m, "CacheableResult", r);
        }
    }
    add(m, "InputRequiredResult", rt(&fx.input_required()));
    add(
        m,
        "InputRequiredResult",
        rt(&{
            let mut only_state = InputRequiredResult::new(InputRequests::new(), None);
            only_state.input_requests = None;
            only_state.request_state = Some("only-state".into());
            only_state
        }),
    );
    // Input requests are `{method, params}` without a JSON-RPC envelope in 2026-07-28.
    for r in fx.input_requests().values() {
        let name = match r {
            InputRequest::CreateMessage(_) => "CreateMessageRequest",
            InputRequest::ListRoots(_) => "ListRootsRequest",
            InputRequest::Elicit(_) => "ElicitRequest",
            other => panic!("no fixture for input request {other:?}"),
        };
        add(m, name, rt(r));
    }
    add(
        m,
        "ClientResult",
        rt(&EmptyResult::default().with_result_type(ResultType::Complete)),
    );
    // ClientNotification is the cancellation notification itself in 2026-07-28.
    add(
        m,
        "ClientNotification",
        notification(
            method::NOTIFICATION_CANCELLED,
            Some(&CancelledNotificationParams::new(
                RequestId::from("x"),
                None,
            )),
        ),
    );

    // *ResultResponse: JSON-RPC result envelopes per method.
    let input_required = fx.input_required();
    for r in fx.call_tool_results() {
        add(m, "CallToolResultResponse", response(&r));
    }
    add(m, "CallToolResultResponse", response(&input_required));
    add(
        m,
        "ReadResourceResultResponse",
        response(&fx.read_resource_result()),
    );
    add(m, "ReadResourceResultResponse", response(&input_required));
    add(
        m,
        "GetPromptResultResponse",
        response(&fx.get_prompt_result()),
    );
    add(m, "GetPromptResultResponse", response(&input_required));
    for (def, from) in [
        ("ListToolsResultResponse", "ListToolsResult"),
        ("ListResourcesResultResponse", "ListResourcesResult"),
        (
            "ListResourceTemplatesResultResponse",
            "ListResourceTemplatesResult",
        ),
        ("ListPromptsResultResponse", "ListPromptsResult"),
        ("CompleteResultResponse", "CompleteResult"),
        ("DiscoverResultResponse", "DiscoverResult"),
        (
            "SubscriptionsListenResultResponse",
            "SubscriptionsListenResult",
        ),
    ] {
        let results = m[from].clone();
        for r in results {
            add(m, def, response(&r));
        }
    }
}

/// Instances of the JSON-RPC envelope kinds and the typed errors.
pub(crate) fn envelopes(fx: &Fx, m: &mut Instances) {
    let req = request(method::TOOLS_CALL, Some(&fx.call_tool_params()));
    let bare = envelope(&Message::Request(Request::new("abc", "x/y", None)));
    let note = notification::<NotificationParams>(method::NOTIFICATION_TOOLS_LIST_CHANGED, None);
    let mut empty = EmptyResult::default();
    empty.result_type = fx.result_type();
    let ok = response(&empty);
    let err = error_response(
        Some(RequestId::Number(1)),
        ErrorObject::invalid_params("Unknown tool: x").with_data(json!({"tool": "x"})),
    );
    // `Message` writes `"id": null` for an error about an unreadable request (the SDK
    // convention, B-4), but both schemas only allow the member to be absent: validate the
    // id-less form, and record that the null form is rejected.
    let mut err_no_id = error_response(None, ErrorObject::parse_error("Parse error"));
    assert_eq!(err_no_id["id"], Value::Null);
    NULL_ID_ERRORS.with(|c| c.borrow_mut().push(err_no_id.clone()));
    err_no_id.as_object_mut().unwrap().remove("id");
    for (def, values) in [
        ("JSONRPCRequest", vec![req.clone(), bare.clone()]),
        ("JSONRPCNotification", vec![note.clone()]),
        ("JSONRPCResultResponse", vec![ok.clone()]),
        ("JSONRPCErrorResponse", vec![err.clone(), err_no_id.clone()]),
        (
            "JSONRPCResponse",
            vec![ok.clone(), err.clone(), err_no_id.clone()],
        ),
        ("JSONRPCMessage", vec![req, note, ok, err, err_no_id]),
    ] {
        for v in values {
            add(m, def, v);
        }
    }
    if fx.modern() {
        add(
            m,
            "UnsupportedProtocolVersionError",
            error_response(
                Some(RequestId::Number(1)),
                UnsupportedProtocolVersionData::new(vec!["2026-07-28".into()], "2099-01-01")
                    .into_error("Unsupported protocol version"),
            ),
        );
        let required =
            ClientCapabilities::default().with_elicitation(ElicitationCapability::default());
        add(
            m,
            "MissingRequiredClientCapabilityError",
            error_response(
                Some(RequestId::Number(1)),
                MissingRequiredClientCapabilityData::new(required)
                    .into_error("Missing client capability: elicitation"),
            ),
        );
        let mut mismatch = error_response(None, header_mismatch_error("Mcp-Method does not match"));
        mismatch.as_object_mut().unwrap().remove("id");
        add(m, "HeaderMismatchError", mismatch);
        for (def, e) in [
            ("ParseError", ErrorObject::parse_error("Parse error")),
            (
                "InvalidRequestError",
                ErrorObject::invalid_request("Invalid Request"),
            ),
            ("MethodNotFoundError", ErrorObject::method_not_found("x/y")),
            (
                "InvalidParamsError",
                ErrorObject::invalid_params("Invalid params"),
            ),
            ("InternalError", ErrorObject::internal()),
        ] {
            add(m, def, serde_json::to_value(&e).unwrap());
        }
    } else {
        add(
            m,
            "URLElicitationRequiredError",
            error_response(
                Some(RequestId::Number(1)),
                UrlElicitationRequiredData::new(vec![fx.url_params()])
                    .into_error("This request requires more information."),
            ),
        );
    }
}

/// Data definitions checked as well (beyond the messages), built from the Rust types.
pub(crate) fn data(fx: &Fx, m: &mut Instances) {
    for c in fx.content_blocks() {
        add(m, "ContentBlock", rt(&c));
    }
    for b in fx.sampling_blocks() {
        add(m, "SamplingMessageContentBlock", rt(&b));
    }
    add(m, "ClientCapabilities", rt(&fx.client_caps()));
    add(m, "ServerCapabilities", rt(&fx.server_caps()));
    add(m, "Implementation", rt(&fx.implementation("x")));
    add(m, "Tool", rt(&fx.tool()));
    add(
        m,
        "ResourceContents",
        rt(&ResourceContents::from(fx.text_contents())),
    );
    add(m, "Annotations", rt(&fx.annotations()));
    let props: JsonObject =
        serde_json::from_value(fx.requested_schema()["properties"].clone()).unwrap();
    for v in props.values() {
        add(m, "PrimitiveSchemaDefinition", v.clone());
    }
    if fx.modern() {
        add(
            m,
            "RequestMetaObject",
            Value::Object(fx.req_meta().unwrap()),
        );
        add(
            m,
            "ResultMetaObject",
            Value::Object(fx.result_meta().unwrap()),
        );
        add(
            m,
            "NotificationMetaObject",
            Value::Object(fx.notif_meta().unwrap()),
        );
        for r in fx.input_responses().unwrap().values() {
            add(m, "InputResponse", rt(r));
        }
        let mut params = InputResponseRequestParams::default().with_request_state("s");
        params.meta = fx.req_meta();
        params.input_responses = fx.input_responses();
        add(m, "InputResponseRequestParams", rt(&params));
    } else {
        add(m, "Task", rt(&fx.task()));
        add(
            m,
            "RelatedTaskMetadata",
            rt(&mcp_http_proto::tasks::RelatedTaskMetadata::new("task-1")),
        );
    }
}

pub(crate) fn instances(fx: &Fx) -> Instances {
    let mut m = Instances::new();
    common(fx, &mut m);
    if fx.modern() {
        modern_only(fx, &mut m);
    } else {
        legacy_only(fx, &mut m);
    }
    envelopes(fx, &mut m);
    data(fx, &mut m);
    m
}
