//! Representative values of the MCP types, with their optional fields filled.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

// ---------------------------------------------------------------------------------------------
// Fixtures: representative values, optional fields filled.

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Era {
    /// 2025-11-25.
    Legacy,
    /// 2026-07-28.
    Modern,
}

pub(crate) struct Fx {
    pub(crate) era: Era,
}

impl Fx {
    pub(crate) fn modern(&self) -> bool {
        self.era == Era::Modern
    }

    pub(crate) fn obj(v: Value) -> JsonObject {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    pub(crate) fn icon(&self) -> Icon {
        Icon {
            src: "https://example.com/icon.png".into(),
            mime_type: Some("image/png".into()),
            sizes: Some(vec!["48x48".into(), "any".into()]),
            theme: Some(IconTheme::Dark),
        }
    }

    pub(crate) fn implementation(&self, name: &str) -> Implementation {
        Implementation {
            name: name.into(),
            title: Some(format!("{name} title")),
            version: "1.2.3".into(),
            description: Some("An implementation".into()),
            icons: Some(vec![self.icon()]),
            website_url: Some("https://example.com/".into()),
        }
    }

    pub(crate) fn client_caps(&self) -> ClientCapabilities {
        let o = || Self::obj(json!({"flag": true, "n": 1}));
        ClientCapabilities {
            experimental: Some(BTreeMap::from([("com.example/x".into(), o())])),
            extensions: self
                .modern()
                .then(|| BTreeMap::from([("io.modelcontextprotocol/ui".into(), o())])),
            roots: Some(RootsCapability {
                list_changed: (!self.modern()).then_some(true),
            }),
            sampling: Some(SamplingCapability {
                context: Some(JsonObject::new()),
                tools: Some(o()),
            }),
            elicitation: Some(ElicitationCapability {
                form: Some(JsonObject::new()),
                url: Some(JsonObject::new()),
            }),
            tasks: (!self.modern()).then(|| ClientTasksCapability {
                list: Some(JsonObject::new()),
                cancel: Some(JsonObject::new()),
                requests: Some(ClientTaskRequests {
                    elicitation: Some(ClientTaskElicitationRequests {
                        create: Some(JsonObject::new()),
                    }),
                    sampling: Some(ClientTaskSamplingRequests {
                        create_message: Some(JsonObject::new()),
                    }),
                }),
            }),
        }
    }

    pub(crate) fn server_caps(&self) -> ServerCapabilities {
        ServerCapabilities {
            experimental: Some(BTreeMap::from([(
                "com.example/y".into(),
                Self::obj(json!({"level": 2})),
            )])),
            extensions: self.modern().then(|| {
                BTreeMap::from([("io.modelcontextprotocol/ui".into(), JsonObject::new())])
            }),
            logging: Some(JsonObject::new()),
            completions: Some(JsonObject::new()),
            prompts: Some(PromptsCapability {
                list_changed: Some(true),
            }),
            resources: Some(ResourcesCapability {
                subscribe: Some(true),
                list_changed: Some(true),
            }),
            tools: Some(ToolsCapability {
                list_changed: Some(false),
            }),
            tasks: (!self.modern()).then(|| ServerTasksCapability {
                list: Some(JsonObject::new()),
                cancel: Some(JsonObject::new()),
                requests: Some(ServerTaskRequests {
                    tools: Some(ServerTaskToolsRequests {
                        call: Some(JsonObject::new()),
                    }),
                }),
            }),
        }
    }

    /// `_meta` of a request: in 2026-07-28 the required per-request keys.
    pub(crate) fn req_meta(&self) -> Option<Meta> {
        if self.modern() {
            let mut m = RequestMetaObject::new("2026-07-28", self.client_caps());
            m.client_info = Some(self.implementation("client"));
            m.log_level = Some(LoggingLevel::Notice);
            m.progress_token = Some(RequestId::from("tok-1"));
            m.other.insert("com.example/trace".into(), json!("t"));
            Some(m.to_meta())
        } else {
            Some(Fx::obj(
                json!({"progressToken": 12, "com.example/trace": "t"}),
            ))
        }
    }

    pub(crate) fn result_meta(&self) -> Option<Meta> {
        let mut m = ResultMetaObject::default();
        if self.modern() {
            m.server_info = Some(self.implementation("server"));
        }
        m.other.insert("com.example/r".into(), json!(1));
        Some(Fx::obj(serde_json::to_value(rt(&m)).unwrap()))
    }

    pub(crate) fn notif_meta(&self) -> Option<Meta> {
        let mut m = NotificationMetaObject::default();
        if self.modern() {
            m.subscription_id = Some(RequestId::Number(3));
        }
        m.other.insert("com.example/n".into(), json!("x"));
        Some(Fx::obj(serde_json::to_value(rt(&m)).unwrap()))
    }

    pub(crate) fn data_meta(&self) -> Option<Meta> {
        Some(Fx::obj(json!({"com.example/d": [1, "two"]})))
    }

    pub(crate) fn result_type(&self) -> Option<ResultType> {
        self.modern().then_some(ResultType::Complete)
    }

    pub(crate) fn ttl(&self) -> Option<u64> {
        self.modern().then_some(60_000)
    }

    pub(crate) fn cache_scope(&self) -> Option<CacheScope> {
        self.modern().then_some(CacheScope::Private)
    }

    pub(crate) fn cursor(&self) -> Option<Cursor> {
        Some("page-2".into())
    }

    pub(crate) fn annotations(&self) -> Annotations {
        Annotations {
            audience: Some(vec![Role::User, Role::Assistant]),
            priority: Some(0.5),
            last_modified: Some("2025-01-12T15:00:58Z".into()),
        }
    }

    pub(crate) fn text_contents(&self) -> TextResourceContents {
        TextResourceContents {
            meta: self.data_meta(),
            uri: "file:///project/readme.md".into(),
            mime_type: Some("text/markdown".into()),
            text: "# Readme".into(),
        }
    }

    pub(crate) fn blob_contents(&self) -> BlobResourceContents {
        BlobResourceContents {
            meta: self.data_meta(),
            uri: "file:///project/logo.png".into(),
            mime_type: Some("image/png".into()),
            blob: "iVBORw0KGgo=".into(),
        }
    }

    pub(crate) fn resource(&self) -> Resource {
        Resource {
            meta: self.data_meta(),
            uri: "file:///project/readme.md".into(),
            name: "readme".into(),
            title: Some("Read me".into()),
            description: Some("The readme".into()),
            mime_type: Some("text/markdown".into()),
            size: Some(1024),
            annotations: Some(self.annotations()),
            icons: Some(vec![self.icon()]),
        }
    }

    pub(crate) fn template(&self) -> ResourceTemplate {
        ResourceTemplate {
            meta: self.data_meta(),
            uri_template: "file:///project/{path}".into(),
            name: "project-file".into(),
            title: Some("Project file".into()),
            description: Some("Any file of the project".into()),
            mime_type: Some("text/plain".into()),
            annotations: Some(self.annotations()),
            icons: Some(vec![self.icon()]),
        }
    }

    pub(crate) fn content_blocks(&self) -> Vec<ContentBlock> {
        let mut text = TextContent::new("hello");
        text.meta = self.data_meta();
        text.annotations = Some(self.annotations());
        let mut image = ImageContent::new("iVBORw0KGgo=", "image/png");
        image.meta = self.data_meta();
        image.annotations = Some(self.annotations());
        let mut audio = AudioContent::new("UklGRg==", "audio/wav");
        audio.meta = self.data_meta();
        audio.annotations = Some(self.annotations());
        let mut embedded_text = EmbeddedResource::new(self.text_contents());
        embedded_text.meta = self.data_meta();
        embedded_text.annotations = Some(self.annotations());
        vec![
            text.into(),
            image.into(),
            audio.into(),
            ContentBlock::ResourceLink(self.resource()),
            embedded_text.into(),
            EmbeddedResource::new(self.blob_contents()).into(),
        ]
    }

    pub(crate) fn tool(&self) -> Tool {
        Tool {
            meta: self.data_meta(),
            name: "get_weather".into(),
            title: Some("Get weather".into()),
            description: Some("Current weather for a city".into()),
            input_schema: Self::obj(json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"]
            })),
            output_schema: Some(Self::obj(json!({
                "type": "object",
                "properties": {"temperature": {"type": "number"}},
                "required": ["temperature"]
            }))),
            annotations: Some(ToolAnnotations {
                title: Some("Weather".into()),
                read_only_hint: Some(true),
                destructive_hint: Some(false),
                idempotent_hint: Some(true),
                open_world_hint: Some(true),
            }),
            icons: Some(vec![self.icon()]),
            execution: (!self.modern()).then_some(ToolExecution {
                task_support: Some(TaskSupport::Optional),
            }),
        }
    }

    pub(crate) fn task_metadata(&self) -> Option<TaskMetadata> {
        (!self.modern()).then_some(TaskMetadata { ttl: Some(60_000) })
    }

    pub(crate) fn task(&self) -> Task {
        Task {
            task_id: "task-1".into(),
            status: TaskStatus::Working,
            status_message: Some("Working on it".into()),
            created_at: "2025-11-25T10:00:00Z".into(),
            last_updated_at: "2025-11-25T10:00:05Z".into(),
            ttl: None,
            poll_interval: Some(1000),
        }
    }

    pub(crate) fn sampling_blocks(&self) -> Vec<SamplingMessageContentBlock> {
        let mut tool_use = ToolUseContent {
            meta: self.data_meta(),
            id: "use-1".into(),
            name: "get_weather".into(),
            input: Self::obj(json!({"city": "Paris"})),
        };
        tool_use.meta = self.data_meta();
        vec![
            SamplingMessageContentBlock::text("hi"),
            SamplingMessageContentBlock::Image(ImageContent::new("iVBORw0KGgo=", "image/png")),
            SamplingMessageContentBlock::Audio(AudioContent::new("UklGRg==", "audio/wav")),
            SamplingMessageContentBlock::ToolUse(tool_use),
            SamplingMessageContentBlock::ToolResult(ToolResultContent {
                meta: self.data_meta(),
                tool_use_id: "use-1".into(),
                content: vec![ContentBlock::text("18 C")],
                structured_content: Some(json!({"temperature": 18})),
                is_error: Some(false),
            }),
        ]
    }

    pub(crate) fn create_message_params(&self) -> CreateMessageRequestParams {
        let blocks = self.sampling_blocks();
        CreateMessageRequestParams {
            meta: Some(Fx::obj(json!({"com.example/s": 1}))),
            messages: vec![
                SamplingMessage::user_text("What is the weather?"),
                SamplingMessage {
                    meta: self.data_meta(),
                    role: Role::Assistant,
                    content: SamplingContent::Multiple(blocks[3..4].to_vec()),
                },
                SamplingMessage {
                    meta: None,
                    role: Role::User,
                    content: SamplingContent::Multiple(blocks[4..].to_vec()),
                },
            ],
            model_preferences: Some(ModelPreferences {
                hints: Some(vec![ModelHint {
                    name: Some("sonnet".into()),
                }]),
                cost_priority: Some(0.3),
                speed_priority: Some(0.5),
                intelligence_priority: Some(0.9),
            }),
            system_prompt: Some("You are helpful.".into()),
            include_context: Some(IncludeContext::ThisServer),
            temperature: Some(0.7),
            max_tokens: 500,
            stop_sequences: Some(vec!["STOP".into()]),
            metadata: Some(Fx::obj(json!({"provider": "x", "n": 2}))),
            tools: Some(vec![self.tool()]),
            tool_choice: Some(ToolChoice {
                mode: Some(ToolChoiceMode::Auto),
            }),
            task: self.task_metadata(),
        }
    }

    pub(crate) fn create_message_result(&self) -> CreateMessageResult {
        CreateMessageResult {
            meta: (!self.modern()).then(|| Fx::obj(json!({"com.example/c": true}))),
            role: Role::Assistant,
            content: SamplingContent::Multiple(self.sampling_blocks()),
            model: "claude-sonnet".into(),
            stop_reason: Some("toolUse".into()),
        }
    }

    pub(crate) fn requested_schema(&self) -> Value {
        let s = |v: PrimitiveSchemaDefinition| rt(&v);
        let props = json!({
            "email": s(PrimitiveSchemaDefinition::String(StringSchema {
                title: Some("Email".into()), description: Some("Your email".into()),
                min_length: Some(3), max_length: Some(100), format: Some(StringFormat::Email),
                default: Some("a@example.com".into()), ..Default::default()
            })),
            "age": s(PrimitiveSchemaDefinition::Number(NumberSchema {
                type_: NumberType::Integer, title: Some("Age".into()),
                description: Some("Years".into()), minimum: Some(0.into()),
                maximum: Some(150.into()), default: Some(30.into()),
            })),
            "ok": s(PrimitiveSchemaDefinition::Boolean(BooleanSchema {
                title: Some("OK".into()), description: Some("Agree?".into()),
                default: Some(true), ..Default::default()
            })),
            "color": s(PrimitiveSchemaDefinition::Enum(EnumSchema::UntitledSingleSelect(
                UntitledSingleSelectEnumSchema {
                    title: Some("Color".into()), description: Some("Pick".into()),
                    values: vec!["red".into(), "green".into()], default: Some("red".into()),
                    ..Default::default()
                }))),
            "size": s(PrimitiveSchemaDefinition::Enum(EnumSchema::TitledSingleSelect(
                TitledSingleSelectEnumSchema {
                    title: Some("Size".into()), description: Some("Pick".into()),
                    one_of: vec![EnumOption { value: "s".into(), title: "Small".into() }],
                    default: Some("s".into()), ..Default::default()
                }))),
            "tags": s(PrimitiveSchemaDefinition::Enum(EnumSchema::UntitledMultiSelect(
                UntitledMultiSelectEnumSchema {
                    title: Some("Tags".into()), description: Some("Pick".into()),
                    min_items: Some(1), max_items: Some(2),
                    items: UntitledEnumItems { values: vec!["a".into(), "b".into()], ..Default::default() },
                    default: Some(vec!["a".into()]), ..Default::default()
                }))),
            "flavours": s(PrimitiveSchemaDefinition::Enum(EnumSchema::TitledMultiSelect(
                TitledMultiSelectEnumSchema {
                    title: Some("Flavours".into()), description: Some("Pick".into()),
                    min_items: Some(0), max_items: Some(3),
                    items: TitledEnumItems { any_of: vec![EnumOption { value: "v".into(), title: "Vanilla".into() }] },
                    default: Some(vec!["v".into()]), ..Default::default()
                }))),
            "legacy": s(PrimitiveSchemaDefinition::Enum(EnumSchema::LegacyTitled(
                LegacyTitledEnumSchema {
                    title: Some("Legacy".into()), description: Some("Pick".into()),
                    values: vec!["x".into()], enum_names: Some(vec!["X".into()]),
                    default: Some("x".into()), ..Default::default()
                }))),
        });
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": props,
            "required": ["email"]
        })
    }

    pub(crate) fn elicit_form(&self) -> ElicitRequestParams {
        let mut form = ElicitRequestFormParams::new("Please fill in", self.requested_schema());
        form.meta = self.data_meta();
        form.task = self.task_metadata();
        form.mode = Some(FormModeTag::Value);
        // The typed view reads back every field.
        assert_eq!(form.typed_properties().unwrap().len(), 8);
        ElicitRequestParams::Form(form)
    }

    pub(crate) fn url_params(&self) -> ElicitRequestURLParams {
        ElicitRequestURLParams {
            meta: self.data_meta(),
            mode: Default::default(),
            message: "Please sign in".into(),
            url: "https://auth.example.com/start?x=1".into(),
            elicitation_id: Some("el-1".into()),
            task: self.task_metadata(),
        }
    }

    pub(crate) fn elicit_results(&self) -> Vec<ElicitResult> {
        let mut accept = ElicitResult::accept(Fx::obj(json!({
            "email": "a@example.com", "age": 30, "ok": true, "tags": ["a", "b"]
        })));
        accept.meta = (!self.modern()).then(|| Fx::obj(json!({"com.example/e": 1})));
        vec![accept, ElicitResult::decline(), ElicitResult::cancel()]
    }

    pub(crate) fn list_roots_result(&self) -> ListRootsResult {
        ListRootsResult {
            meta: (!self.modern()).then(|| Fx::obj(json!({"com.example/r": 1}))),
            roots: vec![
                Root {
                    meta: self.data_meta(),
                    uri: "file:///home/user/project".into(),
                    name: Some("project".into()),
                },
                Root {
                    meta: None,
                    uri: "file:///tmp".into(),
                    name: None,
                },
            ],
        }
    }

    pub(crate) fn call_tool_params(&self) -> CallToolRequestParams {
        CallToolRequestParams {
            meta: self.req_meta(),
            name: "get_weather".into(),
            arguments: Some(Fx::obj(json!({"city": "Paris", "days": 2}))),
            task: self.task_metadata(),
            input_responses: self.input_responses(),
            request_state: self.modern().then(|| "opaque-state".into()),
        }
    }

    pub(crate) fn input_responses(&self) -> Option<InputResponses> {
        if !self.modern() {
            return None;
        }
        let mut r = InputResponses::new();
        r.insert(
            "sample".into(),
            InputResponse::CreateMessage(self.create_message_result()),
        );
        r.insert(
            "roots".into(),
            InputResponse::ListRoots(self.list_roots_result()),
        );
        for (i, e) in self.elicit_results().into_iter().enumerate() {
            r.insert(format!("ask-{i}"), InputResponse::Elicit(e));
        }
        Some(r)
    }

    pub(crate) fn input_requests(&self) -> InputRequests {
        let mut r = InputRequests::new();
        r.insert(
            "sample".into(),
            InputRequest::CreateMessage(self.create_message_params()),
        );
        r.insert("roots".into(), InputRequest::ListRoots(None));
        r.insert(
            "roots-meta".into(),
            InputRequest::ListRoots(Some(RequestParams {
                meta: self.data_meta(),
            })),
        );
        r.insert("form".into(), InputRequest::Elicit(self.elicit_form()));
        r.insert(
            "form-no-mode".into(),
            InputRequest::Elicit(ElicitRequestParams::Form(ElicitRequestFormParams::new(
                "Name?",
                json!({"type": "object", "properties": {"name": {"type": "string"}}}),
            ))),
        );
        r.insert(
            "url".into(),
            InputRequest::Elicit(ElicitRequestParams::Url(self.url_params())),
        );
        r
    }

    pub(crate) fn input_required(&self) -> InputRequiredResult {
        let mut r = InputRequiredResult::new(self.input_requests(), Some("state-1".into()));
        r.meta = self.result_meta();
        r
    }

    pub(crate) fn call_tool_results(&self) -> Vec<CallToolResult> {
        let mut full = CallToolResult::new(self.content_blocks());
        full.meta = self.result_meta();
        full.structured_content = Some(json!({"temperature": 18.5}));
        full.is_error = Some(false);
        full.result_type = self.result_type();
        let mut structured = CallToolResult::structured(json!({"temperature": 18}));
        structured.result_type = self.result_type();
        let mut error = CallToolResult::error("city not found");
        error.result_type = self.result_type();
        let mut out = vec![full, structured, error];
        if self.modern() {
            // 2026-07-28 allows any JSON value as structured content.
            let mut array = CallToolResult::structured(json!([1, 2, 3]));
            array.result_type = self.result_type();
            out.push(array);
        }
        out
    }

    pub(crate) fn paginated(&self) -> PaginatedRequestParams {
        PaginatedRequestParams {
            meta: self.req_meta(),
            cursor: self.cursor(),
        }
    }

    pub(crate) fn prompt(&self) -> Prompt {
        Prompt {
            meta: self.data_meta(),
            name: "code_review".into(),
            title: Some("Code review".into()),
            description: Some("Reviews code".into()),
            arguments: Some(vec![PromptArgument {
                name: "code".into(),
                title: Some("Code".into()),
                description: Some("The code".into()),
                required: Some(true),
            }]),
            icons: Some(vec![self.icon()]),
        }
    }

    pub(crate) fn get_prompt_result(&self) -> GetPromptResult {
        let mut messages: Vec<PromptMessage> = self
            .content_blocks()
            .into_iter()
            .map(|c| PromptMessage::new(Role::User, c))
            .collect();
        messages.push(PromptMessage::assistant_text("Sure."));
        let mut r = GetPromptResult::new(messages).with_description("A review");
        r.meta = self.result_meta();
        r.result_type = self.result_type();
        r
    }

    pub(crate) fn read_resource_result(&self) -> ReadResourceResult {
        let mut r = ReadResourceResult::new(vec![
            self.text_contents().into(),
            self.blob_contents().into(),
        ]);
        r.meta = self.result_meta();
        r.result_type = self.result_type();
        r.ttl_ms = self.ttl();
        r.cache_scope = self.cache_scope();
        r
    }

    pub(crate) fn complete_params(&self) -> Vec<CompleteRequestParams> {
        let context = Some(CompletionContext {
            arguments: Some(BTreeMap::from([("owner".into(), "me".into())])),
        });
        vec![
            CompleteRequestParams {
                meta: self.req_meta(),
                reference: Reference::Prompt(PromptReference {
                    name: "code_review".into(),
                    title: Some("Code review".into()),
                }),
                argument: CompletionArgument {
                    name: "language".into(),
                    value: "py".into(),
                },
                context: context.clone(),
            },
            CompleteRequestParams {
                meta: self.req_meta(),
                reference: Reference::Resource(ResourceTemplateReference {
                    uri: "file:///project/{path}".into(),
                }),
                argument: CompletionArgument {
                    name: "path".into(),
                    value: "sr".into(),
                },
                context,
            },
        ]
    }
}
