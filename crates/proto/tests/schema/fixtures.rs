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
        Icon::new("https://example.com/icon.png")
            .with_mime_type("image/png")
            .with_sizes(vec!["48x48".into(), "any".into()])
            .with_theme(IconTheme::Dark)
    }

    pub(crate) fn implementation(&self, name: &str) -> Implementation {
        Implementation::new(name, "1.2.3")
            .with_title(format!("{name} title"))
            .with_description("An implementation")
            .with_icons(vec![self.icon()])
            .with_website_url("https://example.com/")
    }

    pub(crate) fn client_caps(&self) -> ClientCapabilities {
        let o = || Self::obj(json!({"flag": true, "n": 1}));
        let mut roots = RootsCapability::default();
        roots.list_changed = (!self.modern()).then_some(true);
        let mut caps = ClientCapabilities::default()
            .with_experimental(BTreeMap::from([("com.example/x".into(), o())]))
            .with_roots(roots)
            .with_sampling(
                SamplingCapability::default()
                    .with_context(JsonObject::new())
                    .with_tools(o()),
            )
            .with_elicitation(
                ElicitationCapability::default()
                    .with_form(JsonObject::new())
                    .with_url(JsonObject::new()),
            );
        caps.extensions = self
            .modern()
            .then(|| BTreeMap::from([("io.modelcontextprotocol/ui".into(), o())]));
        caps.tasks = (!self.modern()).then(|| {
            ClientTasksCapability::default()
                .with_list(JsonObject::new())
                .with_cancel(JsonObject::new())
                .with_requests(
                    ClientTaskRequests::default()
                        .with_elicitation(
                            ClientTaskElicitationRequests::default().with_create(JsonObject::new()),
                        )
                        .with_sampling(
                            ClientTaskSamplingRequests::default()
                                .with_create_message(JsonObject::new()),
                        ),
                )
        });
        caps
    }

    pub(crate) fn server_caps(&self) -> ServerCapabilities {
        let mut caps = ServerCapabilities::default()
            .with_experimental(BTreeMap::from([(
                "com.example/y".into(),
                Self::obj(json!({"level": 2})),
            )]))
            .with_logging(JsonObject::new())
            .with_completions(JsonObject::new())
            .with_prompts(PromptsCapability::default().with_list_changed(true))
            .with_resources(
                ResourcesCapability::default()
                    .with_subscribe(true)
                    .with_list_changed(true),
            )
            .with_tools(ToolsCapability::default().with_list_changed(false));
        caps.extensions = self
            .modern()
            .then(|| BTreeMap::from([("io.modelcontextprotocol/ui".into(), JsonObject::new())]));
        caps.tasks =
            (!self.modern()).then(|| {
                ServerTasksCapability::default()
                    .with_list(JsonObject::new())
                    .with_cancel(JsonObject::new())
                    .with_requests(ServerTaskRequests::default().with_tools(
                        ServerTaskToolsRequests::default().with_call(JsonObject::new()),
                    ))
            });
        caps
    }

    /// `_meta` of a request: in 2026-07-28 the required per-request keys.
    pub(crate) fn req_meta(&self) -> Option<Meta> {
        if self.modern() {
            let mut m = RequestMetaObject::new("2026-07-28", self.client_caps())
                .with_client_info(self.implementation("client"))
                .with_log_level(LoggingLevel::Notice)
                .with_progress_token("tok-1");
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
        Annotations::default()
            .with_audience(vec![Role::User, Role::Assistant])
            .with_priority(0.5)
            .with_last_modified("2025-01-12T15:00:58Z")
    }

    pub(crate) fn text_contents(&self) -> TextResourceContents {
        let mut c = TextResourceContents::new("file:///project/readme.md", "# Readme")
            .with_mime_type("text/markdown");
        c.meta = self.data_meta();
        c
    }

    pub(crate) fn blob_contents(&self) -> BlobResourceContents {
        let mut c = BlobResourceContents::new("file:///project/logo.png", "iVBORw0KGgo=")
            .with_mime_type("image/png");
        c.meta = self.data_meta();
        c
    }

    pub(crate) fn resource(&self) -> Resource {
        let mut r = Resource::new("file:///project/readme.md", "readme")
            .with_title("Read me")
            .with_description("The readme")
            .with_mime_type("text/markdown")
            .with_size(1024)
            .with_annotations(self.annotations())
            .with_icons(vec![self.icon()]);
        r.meta = self.data_meta();
        r
    }

    pub(crate) fn template(&self) -> ResourceTemplate {
        let mut t = ResourceTemplate::new("file:///project/{path}", "project-file")
            .with_title("Project file")
            .with_description("Any file of the project")
            .with_mime_type("text/plain")
            .with_annotations(self.annotations())
            .with_icons(vec![self.icon()]);
        t.meta = self.data_meta();
        t
    }

    pub(crate) fn content_blocks(&self) -> Vec<ContentBlock> {
        let meta = || self.data_meta().unwrap();
        let text = TextContent::new("hello")
            .with_meta(meta())
            .with_annotations(self.annotations());
        let image = ImageContent::new("iVBORw0KGgo=", "image/png")
            .with_meta(meta())
            .with_annotations(self.annotations());
        let audio = AudioContent::new("UklGRg==", "audio/wav")
            .with_meta(meta())
            .with_annotations(self.annotations());
        let embedded_text = EmbeddedResource::new(self.text_contents())
            .with_meta(meta())
            .with_annotations(self.annotations());
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
        let mut tool = Tool::new(
            "get_weather",
            json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"]
            }),
        )
        .with_title("Get weather")
        .with_description("Current weather for a city")
        .with_output_schema(json!({
            "type": "object",
            "properties": {"temperature": {"type": "number"}},
            "required": ["temperature"]
        }))
        .with_annotations(
            ToolAnnotations::default()
                .with_title("Weather")
                .with_read_only_hint(true)
                .with_destructive_hint(false)
                .with_idempotent_hint(true)
                .with_open_world_hint(true),
        )
        .with_icons(vec![self.icon()]);
        tool.meta = self.data_meta();
        tool.execution = (!self.modern())
            .then(|| ToolExecution::default().with_task_support(TaskSupport::Optional));
        tool
    }

    pub(crate) fn task_metadata(&self) -> Option<TaskMetadata> {
        (!self.modern()).then(|| TaskMetadata::default().with_ttl(60_000))
    }

    pub(crate) fn task(&self) -> Task {
        Task::new(
            "task-1",
            TaskStatus::Working,
            "2025-11-25T10:00:00Z",
            "2025-11-25T10:00:05Z",
        )
        .with_status_message("Working on it")
        .with_poll_interval(1000)
    }

    pub(crate) fn sampling_blocks(&self) -> Vec<SamplingMessageContentBlock> {
        let mut tool_use =
            ToolUseContent::new("use-1", "get_weather", Self::obj(json!({"city": "Paris"})));
        tool_use.meta = self.data_meta();
        let mut tool_result = ToolResultContent::new("use-1", vec![ContentBlock::text("18 C")])
            .with_structured_content(json!({"temperature": 18}))
            .with_is_error(false);
        tool_result.meta = self.data_meta();
        vec![
            SamplingMessageContentBlock::text("hi"),
            SamplingMessageContentBlock::Image(ImageContent::new("iVBORw0KGgo=", "image/png")),
            SamplingMessageContentBlock::Audio(AudioContent::new("UklGRg==", "audio/wav")),
            SamplingMessageContentBlock::ToolUse(tool_use),
            SamplingMessageContentBlock::ToolResult(tool_result),
        ]
    }

    pub(crate) fn create_message_params(&self) -> CreateMessageRequestParams {
        let blocks = self.sampling_blocks();
        let mut assistant = SamplingMessage::new(
            Role::Assistant,
            SamplingContent::Multiple(blocks[3..4].to_vec()),
        );
        assistant.meta = self.data_meta();
        let messages = vec![
            SamplingMessage::user_text("What is the weather?"),
            assistant,
            SamplingMessage::new(Role::User, SamplingContent::Multiple(blocks[4..].to_vec())),
        ];
        let mut params = CreateMessageRequestParams::new(messages, 500)
            .with_meta(Fx::obj(json!({"com.example/s": 1})))
            .with_model_preferences(
                ModelPreferences::default()
                    .with_hints(vec![ModelHint::new("sonnet")])
                    .with_cost_priority(0.3)
                    .with_speed_priority(0.5)
                    .with_intelligence_priority(0.9),
            )
            .with_system_prompt("You are helpful.")
            .with_include_context(IncludeContext::ThisServer)
            .with_temperature(0.7)
            .with_stop_sequences(vec!["STOP".into()])
            .with_metadata(Fx::obj(json!({"provider": "x", "n": 2})))
            .with_tools(vec![self.tool()])
            .with_tool_choice(ToolChoice::default().with_mode(ToolChoiceMode::Auto));
        params.task = self.task_metadata();
        params
    }

    pub(crate) fn create_message_result(&self) -> CreateMessageResult {
        let mut r = CreateMessageResult::new(
            Role::Assistant,
            SamplingContent::Multiple(self.sampling_blocks()),
            "claude-sonnet",
        )
        .with_stop_reason("toolUse");
        r.meta = (!self.modern()).then(|| Fx::obj(json!({"com.example/c": true})));
        r
    }

    pub(crate) fn requested_schema(&self) -> Value {
        let s = |v: PrimitiveSchemaDefinition| rt(&v);
        let props = json!({
            "email": s(PrimitiveSchemaDefinition::String(StringSchema::default()
                .with_title("Email").with_description("Your email")
                .with_min_length(3).with_max_length(100).with_format(StringFormat::Email)
                .with_default("a@example.com"))),
            "age": s(PrimitiveSchemaDefinition::Number(NumberSchema::new(NumberType::Integer)
                .with_title("Age").with_description("Years")
                .with_minimum(0).with_maximum(150).with_default(30))),
            "ok": s(PrimitiveSchemaDefinition::Boolean(BooleanSchema::default()
                .with_title("OK").with_description("Agree?").with_default(true))),
            "color": s(PrimitiveSchemaDefinition::Enum(EnumSchema::UntitledSingleSelect(
                UntitledSingleSelectEnumSchema::new(vec!["red".into(), "green".into()])
                    .with_title("Color").with_description("Pick").with_default("red")))),
            "size": s(PrimitiveSchemaDefinition::Enum(EnumSchema::TitledSingleSelect(
                TitledSingleSelectEnumSchema::new(vec![EnumOption::new("s", "Small")])
                    .with_title("Size").with_description("Pick").with_default("s")))),
            "tags": s(PrimitiveSchemaDefinition::Enum(EnumSchema::UntitledMultiSelect(
                UntitledMultiSelectEnumSchema::new(vec!["a".into(), "b".into()])
                    .with_title("Tags").with_description("Pick")
                    .with_min_items(1).with_max_items(2)
                    .with_default(vec!["a".into()])))),
            "flavours": s(PrimitiveSchemaDefinition::Enum(EnumSchema::TitledMultiSelect(
                TitledMultiSelectEnumSchema::new(vec![EnumOption::new("v", "Vanilla")])
                    .with_title("Flavours").with_description("Pick")
                    .with_min_items(0).with_max_items(3)
                    .with_default(vec!["v".into()])))),
            "legacy": s(PrimitiveSchemaDefinition::Enum(EnumSchema::LegacyTitled(
                LegacyTitledEnumSchema::new(vec!["x".into()])
                    .with_title("Legacy").with_description("Pick")
                    .with_enum_names(vec!["X".into()]).with_default("x")))),
        });
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": props,
            "required": ["email"]
        })
    }

    pub(crate) fn elicit_form(&self) -> ElicitRequestParams {
        let mut form = ElicitRequestFormParams::new("Please fill in", self.requested_schema())
            .with_mode(FormModeTag::Value);
        form.meta = self.data_meta();
        form.task = self.task_metadata();
        // The typed view reads back every field.
        assert_eq!(form.typed_properties().unwrap().len(), 8);
        ElicitRequestParams::Form(form)
    }

    pub(crate) fn url_params(&self) -> ElicitRequestURLParams {
        let mut p = ElicitRequestURLParams::new(
            "Please sign in",
            "https://auth.example.com/start?x=1",
            "el-1",
        );
        p.meta = self.data_meta();
        p.task = self.task_metadata();
        p
    }

    pub(crate) fn elicit_results(&self) -> Vec<ElicitResult> {
        let mut accept = ElicitResult::accept(Fx::obj(json!({
            "email": "a@example.com", "age": 30, "ok": true, "tags": ["a", "b"]
        })));
        accept.meta = (!self.modern()).then(|| Fx::obj(json!({"com.example/e": 1})));
        vec![accept, ElicitResult::decline(), ElicitResult::cancel()]
    }

    pub(crate) fn list_roots_result(&self) -> ListRootsResult {
        let mut project = Root::new("file:///home/user/project", "project");
        project.meta = self.data_meta();
        let mut r = ListRootsResult::new(vec![project, Root::unnamed("file:///tmp")]);
        r.meta = (!self.modern()).then(|| Fx::obj(json!({"com.example/r": 1})));
        r
    }

    pub(crate) fn call_tool_params(&self) -> CallToolRequestParams {
        let mut p = CallToolRequestParams::new("get_weather", json!({"city": "Paris", "days": 2}));
        p.meta = self.req_meta();
        p.task = self.task_metadata();
        p.input_responses = self.input_responses();
        p.request_state = self.modern().then(|| "opaque-state".into());
        p
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
            InputRequest::ListRoots(Some(
                RequestParams::default().with_meta(self.data_meta().unwrap()),
            )),
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
        InputRequiredResult::new(self.input_requests(), Some("state-1".into()))
            .with_meta(self.result_meta().unwrap())
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
        let mut p = PaginatedRequestParams::default();
        p.meta = self.req_meta();
        p.cursor = self.cursor();
        p
    }

    pub(crate) fn prompt(&self) -> Prompt {
        let mut p = Prompt::new("code_review")
            .with_title("Code review")
            .with_description("Reviews code")
            .with_arguments(vec![
                PromptArgument::new("code", true)
                    .with_title("Code")
                    .with_description("The code"),
            ])
            .with_icons(vec![self.icon()]);
        p.meta = self.data_meta();
        p
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
        let context = CompletionContext::default()
            .with_arguments(BTreeMap::from([("owner".into(), "me".into())]));
        let mut prompt = CompleteRequestParams::new(
            Reference::Prompt(PromptReference::new("code_review").with_title("Code review")),
            CompletionArgument::new("language", "py"),
        )
        .with_context(context.clone());
        prompt.meta = self.req_meta();
        let mut resource = CompleteRequestParams::new(
            Reference::resource("file:///project/{path}"),
            CompletionArgument::new("path", "sr"),
        )
        .with_context(context);
        resource.meta = self.req_meta();
        vec![prompt, resource]
    }
}
