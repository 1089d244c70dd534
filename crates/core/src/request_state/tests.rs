use super::*;

fn states(secret: u8) -> RequestStates {
    match RequestStateKeys::from_secrets([[secret; 32]]) {
        Ok(keys) => RequestStates::new(keys),
        Err(e) => panic!("{e}"),
    }
}

fn binding() -> Binding {
    Binding::new(
        "tools/call",
        "book",
        Some(r#"{"name":"book","arguments":{"b":2,"a":1},"_meta":{"x":1}}"#),
        Some("alice"),
    )
}

fn sealed(states: &RequestStates, binding: &Binding) -> String {
    let mut answers = Map::new();
    answers.insert(
        "elicitation-0".into(),
        serde_json::json!({"action": "accept"}),
    );
    match states.seal(binding.claims(answers, Some("mine".into()))) {
        Ok(token) => token,
        Err(reason) => panic!("{reason:?}"),
    }
}

#[test]
fn a_sealed_state_opens_with_its_answers_and_the_handlers_state() {
    let states = states(1);
    let token = sealed(&states, &binding());
    assert!(
        !token.contains("mine"),
        "the state is encrypted, not only signed"
    );
    let claims = states
        .open(&token, &binding())
        .map_err(|r| format!("{r:?}"));
    let claims = claims.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(claims.s.as_deref(), Some("mine"));
    assert_eq!(claims.r["elicitation-0"]["action"], "accept");
    assert!(claims.nonce().is_some());
    // Two seals of the same claims differ (random nonces).
    assert_ne!(token, sealed(&states, &binding()));
}

#[test]
fn the_params_digest_ignores_key_order_meta_and_the_retry_members() {
    let retried = Binding::new(
        "tools/call",
        "book",
        Some(r#"{"arguments":{"a":1,"b":2},"name":"book","requestState":"x","inputResponses":{}}"#),
        Some("alice"),
    );
    assert_eq!(retried, binding());
}

#[test]
fn a_tampered_state_is_refused() {
    let states = states(1);
    let token = sealed(&states, &binding());
    assert_eq!(
        states.open(&format!("{token}-TAMPERED"), &binding()).err(),
        Some(Reason::Tampered)
    );
    let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap_or_default();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let flipped = URL_SAFE_NO_PAD.encode(&bytes);
    assert_eq!(
        states.open(&flipped, &binding()).err(),
        Some(Reason::Tampered)
    );
    assert_eq!(
        states.open("not base64!", &binding()).err(),
        Some(Reason::NotBase64)
    );
    assert_eq!(
        states.open("AAAA", &binding()).err(),
        Some(Reason::Malformed)
    );
}

#[test]
fn a_state_of_another_key_is_refused() {
    let token = sealed(&states(1), &binding());
    assert_eq!(
        states(2).open(&token, &binding()).err(),
        Some(Reason::Tampered)
    );
    let ephemeral = RequestStates::default();
    assert_eq!(
        ephemeral.open(&token, &binding()).err(),
        Some(Reason::Tampered)
    );
}

#[test]
fn an_expired_state_is_refused() {
    let states = states(1).with_ttl(Duration::ZERO);
    let token = sealed(&states, &binding());
    assert_eq!(states.open(&token, &binding()).err(), Some(Reason::Expired));
}

#[test]
fn a_state_is_bound_to_its_method_target_params_and_principal() {
    let states = states(1);
    let token = sealed(&states, &binding());
    let args = Some(r#"{"name":"book","arguments":{"a":1,"b":2}}"#);
    for other in [
        Binding::new("prompts/get", "book", args, Some("alice")),
        Binding::new("tools/call", "other", args, Some("alice")),
        Binding::new(
            "tools/call",
            "book",
            Some(r#"{"name":"book","arguments":{"a":1,"b":3}}"#),
            Some("alice"),
        ),
        Binding::new("tools/call", "book", args, Some("mallory")),
        Binding::new("tools/call", "book", args, None),
    ] {
        assert_eq!(
            states.open(&token, &other).err(),
            Some(Reason::WrongBinding),
            "{other:?}"
        );
    }
}

#[test]
fn a_rotated_ring_seals_with_the_new_key_and_opens_with_both() {
    let old = states(1);
    let old_token = sealed(&old, &binding());
    let ring = RequestStateKeys::from_secrets([[2u8; 32], [1u8; 32]]);
    let rotated = RequestStates::new(ring.unwrap_or_else(|e| panic!("{e}")));
    assert!(rotated.open(&old_token, &binding()).is_ok());
    let new_token = sealed(&rotated, &binding());
    assert!(states(2).open(&new_token, &binding()).is_ok());
    assert_eq!(
        old.open(&new_token, &binding()).err(),
        Some(Reason::Tampered)
    );
}

#[test]
fn secrets_must_be_long_enough() {
    assert_eq!(
        RequestStateKeys::from_secrets([b"short"]).err(),
        Some(KeyError::TooShort)
    );
    assert_eq!(
        RequestStateKeys::from_secrets(Vec::<Vec<u8>>::new()).err(),
        Some(KeyError::NoSecret)
    );
    assert!(format!("{:?}", RequestStates::default()).contains("ephemeral: true"));
}

#[test]
fn oversized_states_are_neither_issued_nor_opened() {
    let states = states(1);
    let huge = "x".repeat(MAX_STATE_LEN);
    assert_eq!(
        states.seal(binding().claims(Map::new(), Some(huge))).err(),
        Some(Reason::TooLarge)
    );
    let long = "A".repeat(MAX_STATE_LEN + 1);
    assert_eq!(states.open(&long, &binding()).err(), Some(Reason::TooLarge));
}

#[tokio::test]
async fn a_nonce_is_used_once_until_released() {
    let used = MemoryUsedStates::new(4);
    let later = SystemTime::now() + Duration::from_secs(60);
    let nonce = StateNonce([7; 16]);
    assert!(used.first_use(nonce, later).await);
    assert!(!used.first_use(nonce, later).await, "a replay is refused");
    used.release(nonce).await;
    assert!(used.first_use(nonce, later).await, "released: usable again");
    assert_eq!(nonce.to_string(), "07".repeat(16));
}

#[tokio::test]
async fn the_used_table_is_bounded_and_forgets_expired_entries_first() {
    let used = MemoryUsedStates::new(2);
    let now = SystemTime::now();
    let soon = now + Duration::from_secs(10);
    let later = now + Duration::from_secs(100);
    assert!(used.first_use(StateNonce([1; 16]), later).await);
    assert!(used.first_use(StateNonce([2; 16]), soon).await);
    // Full: the entry that expires first (2) makes room.
    assert!(used.first_use(StateNonce([3; 16]), later).await);
    assert_eq!(used.len(), 2);
    assert!(!used.first_use(StateNonce([1; 16]), later).await);
    assert!(used.first_use(StateNonce([2; 16]), soon).await);
    // An expired entry goes before any other.
    let past = now - Duration::from_secs(1);
    let fresh = MemoryUsedStates::new(8);
    assert!(fresh.first_use(StateNonce([4; 16]), past).await);
    assert!(fresh.first_use(StateNonce([5; 16]), later).await);
    assert_eq!(fresh.len(), 1);
}
