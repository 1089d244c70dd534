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
    let list_tools = ListToolsResult {
        meta: fx.result_meta(),
        tools: vec![fx.tool(), Tool::new("no_args", Value::Null)],
        next_cursor: fx.cursor(),
        result_type: fx.result_type(),
        ttl_ms: fx.ttl(),
        cache_scope: fx.cache_scope(),
    };
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
            Some(&NotificationParams {
                meta: fx.notif_meta(),
            }),
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
    let list_resources = ListResourcesResult {
        meta: fx.result_meta(),
        resources: vec![fx.resource(), Resource::new("file:///a", "a")],
        next_cursor: fx.cursor(),
        result_type: fx.result_type(),
        ttl_ms: fx.ttl(),
        cache_scope: fx.cache_scope(),
    };
    add(m, "ListResourcesResult", rt(&list_resources));
    add(
        m,
        "ListResourceTemplatesRequest",
        request(method::RESOURCES_TEMPLATES_LIST, Some(&fx.paginated())),
    );
    let list_templates = ListResourceTemplatesResult {
        meta: fx.result_meta(),
        resource_templates: vec![fx.template()],
        next_cursor: fx.cursor(),
        result_type: fx.result_type(),
        ttl_ms: fx.ttl(),
        cache_scope: fx.cache_scope(),
    };
    add(m, "ListResourceTemplatesResult", rt(&list_templates));
    let read = ReadResourceRequestParams {
        meta: fx.req_meta(),
        uri: "file:///project/readme.md".into(),
        input_responses: fx.input_responses(),
        request_state: fx.modern().then(|| "s".into()),
    };
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
            Some(&ResourceUpdatedNotificationParams {
                meta: fx.notif_meta(),
                uri: "file:///project/readme.md".into(),
            }),
        ),
    );
    add(
        m,
        "ResourceListChangedNotification",
        notification(
            method::NOTIFICATION_RESOURCES_LIST_CHANGED,
            Some(&NotificationParams {
                meta: fx.notif_meta(),
            }),
        ),
    );

    // prompts
    add(
        m,
        "ListPromptsRequest",
        request(method::PROMPTS_LIST, Some(&fx.paginated())),
    );
    let list_prompts = ListPromptsResult {
        meta: fx.result_meta(),
        prompts: vec![fx.prompt(), Prompt::new("bare")],
        next_cursor: fx.cursor(),
        result_type: fx.result_type(),
        ttl_ms: fx.ttl(),
        cache_scope: fx.cache_scope(),
    };
    add(m, "ListPromptsResult", rt(&list_prompts));
    let get = GetPromptRequestParams {
        meta: fx.req_meta(),
        name: "code_review".into(),
        arguments: Some(BTreeMap::from([("code".into(), "fn main() {}".into())])),
        input_responses: fx.input_responses(),
        request_state: fx.modern().then(|| "s".into()),
    };
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
            Some(&NotificationParams {
                meta: fx.notif_meta(),
            }),
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
    let empty = EmptyResult {
        meta: fx.result_meta(),
        result_type: fx.result_type(),
    };
    add(m, "EmptyResult", rt(&empty));
    // The abstract base, as a member of the ClientResult/ServerResult unions.
    add(m, "Result", rt(&empty));
}

pub(crate) fn legacy_only(fx: &Fx, m: &mut Instances) {
    let init = InitializeRequestParams {
        meta: fx.req_meta(),
        protocol_version: "2025-11-25".into(),
        capabilities: fx.client_caps(),
        client_info: fx.implementation("client"),
    };
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
            Some(&NotificationParams {
                meta: fx.notif_meta(),
            }),
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
            Some(&RequestParams {
                meta: fx.req_meta(),
            }),
        ),
    );
    add(
        m,
        "SetLevelRequest",
        request(
            method::LOGGING_SET_LEVEL,
            Some(&SetLevelRequestParams {
                meta: fx.req_meta(),
                level: LoggingLevel::Warning,
            }),
        ),
    );
    add(
        m,
        "SubscribeRequest",
        request(
            method::RESOURCES_SUBSCRIBE,
            Some(&SubscribeRequestParams {
                meta: fx.req_meta(),
                uri: "file:///project/readme.md".into(),
            }),
        ),
    );
    add(
        m,
        "UnsubscribeRequest",
        request(
            method::RESOURCES_UNSUBSCRIBE,
            Some(&UnsubscribeRequestParams {
                meta: fx.req_meta(),
                uri: "file:///project/readme.md".into(),
            }),
        ),
    );
    add(
        m,
        "RootsListChangedNotification",
        notification(
            method::NOTIFICATION_ROOTS_LIST_CHANGED,
            Some(&NotificationParams {
                meta: fx.notif_meta(),
            }),
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
            Some(&RequestParams {
                meta: fx.req_meta(),
            }),
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
            Some(&ElicitationCompleteNotificationParams {
                elicitation_id: "el-1".into(),
            }),
        ),
    );

    // tasks
    let id = TaskIdParams {
        task_id: "task-1".into(),
    };
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
    let task_result = GetTaskResult {
        meta: fx.result_meta(),
        task: fx.task(),
    };
    add(m, "GetTaskResult", rt(&task_result));
    let mut cancelled = fx.task();
    cancelled.status = TaskStatus::Cancelled;
    cancelled.ttl = Some(30_000);
    add(
        m,
        "CancelTaskResult",
        rt(&CancelTaskResult {
            meta: fx.result_meta(),
            task: cancelled,
        }),
    );
    add(
        m,
        "CreateTaskResult",
        rt(&CreateTaskResult {
            meta: fx.result_meta(),
            task: fx.task(),
        }),
    );
    let payload = rt(&fx.call_tool_results()[0]);
    let payload: GetTaskPayloadResult = serde_json::from_value(payload).unwrap();
    assert!(payload.meta.is_some() && payload.payload.contains_key("content"));
    add(m, "GetTaskPayloadResult", rt(&payload));
    add(
        m,
        "ListTasksResult",
        rt(&ListTasksResult {
            meta: fx.result_meta(),
            tasks: vec![fx.task()],
            next_cursor: fx.cursor(),
        }),
    );
    let mut status = fx.task();
    status.status = TaskStatus::InputRequired;
    add(
        m,
        "TaskStatusNotification",
        notification(
            method::NOTIFICATION_TASKS_STATUS,
            Some(&TaskStatusNotificationParams {
                meta: fx.notif_meta(),
                task: status,
            }),
        ),
    );
    // A task-augmented call, and the corresponding results.
    add(
        m,
        "CallToolRequest",
        request(
            method::TOOLS_CALL,
            Some(&CallToolRequestParams {
                task: Some(TaskMetadata { ttl: None }),
                ..CallToolRequestParams::new("slow", json!({}))
            }),
        ),
    );
}

pub(crate) fn modern_only(fx: &Fx, m: &mut Instances) {
    add(
        m,
        "DiscoverRequest",
        request(
            method::SERVER_DISCOVER,
            Some(&RequestParams {
                meta: fx.req_meta(),
            }),
        ),
    );
    let discover = DiscoverResult {
        meta: fx.result_meta(),
        supported_versions: vec!["2025-11-25".into(), "2026-07-28".into()],
        capabilities: fx.server_caps(),
        instructions: Some("Use the weather tool.".into()),
        result_type: fx.result_type(),
        ttl_ms: fx.ttl(),
        cache_scope: Some(CacheScope::Public),
    };
    add(m, "DiscoverResult", rt(&discover));
    let filter = SubscriptionFilter {
        tools_list_changed: Some(true),
        prompts_list_changed: Some(false),
        resources_list_changed: Some(true),
        resource_subscriptions: Some(vec!["file:///project/readme.md".into()]),
    };
    add(
        m,
        "SubscriptionsListenRequest",
        request(
            method::SUBSCRIPTIONS_LISTEN,
            Some(&SubscriptionsListenRequestParams {
                meta: fx.req_meta(),
                notifications: filter.clone(),
            }),
        ),
    );
    add(
        m,
        "SubscriptionsAcknowledgedNotification",
        notification(
            method::NOTIFICATION_SUBSCRIPTIONS_ACKNOWLEDGED,
            Some(&SubscriptionsAcknowledgedNotificationParams {
                meta: fx.notif_meta(),
                notifications: SubscriptionFilter {
                    prompts_list_changed: None,
                    ..filter
                },
            }),
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
        rt(&InputRequiredResult {
            meta: None,
            input_requests: None,
            request_state: Some("only-state".into()),
            result_type: ResultType::InputRequired,
        }),
    );
    // Input requests are `{method, params}` without a JSON-RPC envelope in 2026-07-28.
    for r in fx.input_requests().values() {
        let name = match r {
            InputRequest::CreateMessage(_) => "CreateMessageRequest",
            InputRequest::ListRoots(_) => "ListRootsRequest",
            InputRequest::Elicit(_) => "ElicitRequest",
        };
        add(m, name, rt(r));
    }
    add(
        m,
        "ClientResult",
        rt(&EmptyResult {
            meta: None,
            result_type: Some(ResultType::Complete),
        }),
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
    let ok = response(&EmptyResult {
        meta: None,
        result_type: fx.result_type(),
    });
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
                UnsupportedProtocolVersionData {
                    supported: vec!["2026-07-28".into()],
                    requested: "2099-01-01".into(),
                }
                .into_error("Unsupported protocol version"),
            ),
        );
        let required = ClientCapabilities {
            elicitation: Some(ElicitationCapability::default()),
            ..Default::default()
        };
        add(
            m,
            "MissingRequiredClientCapabilityError",
            error_response(
                Some(RequestId::Number(1)),
                MissingRequiredClientCapabilityData {
                    required_capabilities: required,
                }
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
                UrlElicitationRequiredData {
                    elicitations: vec![fx.url_params()],
                }
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
        let params = InputResponseRequestParams {
            meta: fx.req_meta(),
            input_responses: fx.input_responses(),
            request_state: Some("s".into()),
        };
        add(m, "InputResponseRequestParams", rt(&params));
    } else {
        add(m, "Task", rt(&fx.task()));
        add(
            m,
            "RelatedTaskMetadata",
            rt(&mcp_http_proto::tasks::RelatedTaskMetadata {
                task_id: "task-1".into(),
            }),
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
