//! `ServerNotification::route_raw`: the routing ids read from raw params without decoding them
//! must be those of `decode(..)` followed by `thread_id()` / `turn_id()` — on every recorded
//! notification, on the fallback places of unknown methods, on escaped, null, non-string and
//! repeated ids, on absent and non-object params, on what the byte scanner must get right
//! (whitespace between tokens, brackets and escaped quotes in strings, escaped keys, nested
//! arrays, numbers), and on generated params (proptest) — and it must not allocate for
//! unescaped ids.

use codex_client_protocol::envelope::Incoming;
use codex_client_protocol::{RawRoute, ServerNotification, notifications};
use proptest::prelude::*;
use serde_json::Value;
use serde_json::value::RawValue;
use std::alloc::{GlobalAlloc, Layout, System};
use std::borrow::Cow;
use std::cell::Cell;
use std::path::Path;

/// Counts the allocations of the current thread (tests run on several threads at once).
struct CountingAlloc;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only bumps a thread-local counter beside it.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract is System's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is System's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract is System's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn allocations_during<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = ALLOCATIONS.with(Cell::get);
    let out = f();
    (out, ALLOCATIONS.with(Cell::get) - before)
}

fn raw(text: &str) -> Box<RawValue> {
    RawValue::from_string(text.to_owned()).unwrap()
}

/// What decoding gives: `Some((thread, turn))` when `decode` succeeds.
fn decoded(method: &str, params: Option<&RawValue>) -> Option<(Option<String>, Option<String>)> {
    let n = ServerNotification::decode(method, params).ok()?;
    Some((
        n.thread_id().map(str::to_owned),
        n.turn_id().map(str::to_owned),
    ))
}

fn pair(route: &RawRoute<'_>) -> (Option<String>, Option<String>) {
    (
        route.thread_id.as_deref().map(str::to_owned),
        route.turn_id.as_deref().map(str::to_owned),
    )
}

/// Whether the params, or the `thread` / `turn` object holding an id, are a JSON array: serde's
/// derived structs accept an array positionally (`["msg", "thr_1"]` decodes as a
/// `WarningNotification` with thread id `thr_1`), which the app-server never sends and
/// `route_raw` reads as carrying no ids (see `array_params_are_the_documented_exception`).
fn positional(params: &str) -> bool {
    let value: Value = serde_json::from_str(params).unwrap();
    value.is_array()
        || ["thread", "turn"]
            .iter()
            .any(|k| value.get(k).is_some_and(Value::is_array))
}

/// `route_raw` against `decode`: equal whenever the decode succeeds (for a known method, with
/// params in object form); returns whether it was compared.
#[track_caller]
fn agrees_with_decode(method: &str, params: Option<&str>) -> bool {
    let route_params = params.map(raw);
    let route = ServerNotification::route_raw(method, route_params.as_deref());
    match decoded(method, route_params.as_deref()) {
        Some(_) if notifications::METHODS.contains(&method) && params.is_some_and(positional) => {
            false
        }
        Some(expected) => {
            assert_eq!(pair(&route), expected, "{method} {params:?}");
            true
        }
        None => false,
    }
}

/// The string at a ROUTING path (`params.a.b`) of raw params read as a `Value`.
fn at<'v>(params: &'v Value, path: &str) -> Option<&'v str> {
    let mut cur = params;
    for key in path.strip_prefix("params.").unwrap().split('.') {
        cur = cur.get(key)?;
    }
    cur.as_str()
}

fn fixture_lines() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    let mut lines = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (i, line) in text.lines().enumerate() {
            if !line.trim().is_empty() {
                let at = format!("{}:{}", file.file_name().unwrap().to_string_lossy(), i + 1);
                lines.push((at, line.to_owned()));
            }
        }
    }
    lines
}

/// (a) Every notification the testkit recorded from the real app-server: the same ids as the
/// decoded notification, borrowed from the line (none of them is escaped).
#[test]
fn recorded_notifications_route_as_decoded() {
    let mut notifications = 0;
    let mut with_thread = 0;
    let mut with_turn = 0;
    let mut without_allocation = 0;
    let mut deltas = 0;
    for (at, line) in fixture_lines() {
        let Incoming::Notification { method, params, .. } = Incoming::parse(&line).unwrap() else {
            continue;
        };
        let n = ServerNotification::decode(&method, params).unwrap_or_else(|e| panic!("{at}: {e}"));
        let (route, allocations) =
            allocations_during(|| ServerNotification::route_raw(&method, params));
        assert_eq!(
            route.thread_id.as_deref(),
            n.thread_id(),
            "{at}: thread of {method}"
        );
        assert_eq!(
            route.turn_id.as_deref(),
            n.turn_id(),
            "{at}: turn of {method}"
        );
        for id in [&route.thread_id, &route.turn_id].into_iter().flatten() {
            assert!(matches!(id, Cow::Borrowed(_)), "{at}: {id:?} not borrowed");
        }
        notifications += 1;
        with_thread += usize::from(route.thread_id.is_some());
        with_turn += usize::from(route.turn_id.is_some());
        without_allocation += usize::from(allocations == 0);
        // Nothing allocated: no recorded id or key is escaped, and skipping a value (however
        // deeply nested: the `item` of `item/completed`) allocates nothing.
        assert_eq!(
            allocations, 0,
            "{at}: {allocations} allocations for {method}"
        );
        if method.ends_with("elta") {
            deltas += 1;
            assert_eq!(allocations, 0, "{at}: {method}");
        }
    }
    assert!(notifications > 50, "{notifications}");
    assert!(deltas > 10, "{deltas}");
    assert!(
        with_thread > 40 && with_turn > 40,
        "{with_thread} {with_turn}"
    );
    assert!(
        without_allocation * 2 > notifications,
        "{without_allocation} of {notifications}"
    );
}

/// Every known method reads the places its ROUTING entry names, and only those.
#[test]
fn known_methods_read_their_routing_paths() {
    let params = r#"{"conversationId":"C","thread":{"id":"T2"},"threadId":"T","turn":{"id":"U2"},"turnId":"U"}"#;
    let value: Value = serde_json::from_str(params).unwrap();
    let params = raw(params);
    for (method, thread, turn) in notifications::ROUTING {
        let route = ServerNotification::route_raw(method, Some(&params));
        assert_eq!(
            route.thread_id.as_deref(),
            thread.and_then(|p| at(&value, p)),
            "{method}"
        );
        assert_eq!(
            route.turn_id.as_deref(),
            turn.and_then(|p| at(&value, p)),
            "{method}"
        );
    }
    assert_eq!(notifications::ROUTING.len(), notifications::METHODS.len());
}

/// (b) Methods this crate does not know: `threadId`, then `thread.id`, then `conversationId`;
/// `turnId`, then `turn.id` — a place that is not a string is skipped.
#[test]
fn unknown_methods_use_the_fallback_order() {
    let cases: &[(&str, Option<&str>, Option<&str>)] = &[
        (
            r#"{"conversationId":"C","thread":{"id":"T2"},"threadId":"T","turn":{"id":"U2"},"turnId":"U"}"#,
            Some("T"),
            Some("U"),
        ),
        (
            r#"{"conversationId":"C","thread":{"id":"T2"},"turn":{"id":"U2"}}"#,
            Some("T2"),
            Some("U2"),
        ),
        (
            r#"{"conversationId":"C","thread":{"name":"x"}}"#,
            Some("C"),
            None,
        ),
        (
            r#"{"threadId":null,"thread":{"id":7},"conversationId":"C","turnId":1,"turn":{"id":"U2"}}"#,
            Some("C"),
            Some("U2"),
        ),
        (
            r#"{"threadId":["T"],"thread":"T2","turnId":{"id":"U"},"turn":["U2"]}"#,
            None,
            None,
        ),
        (
            r#"{"turn":{"id":"U2","items":[{"id":"nested","threadId":"no"}]},"thread":{"meta":{"id":"no"},"id":"T2"}}"#,
            Some("T2"),
            Some("U2"),
        ),
        (
            r#"{"item":{"threadId":"no","turnId":"no","thread":{"id":"no"}},"list":[{"threadId":"no"}]}"#,
            None,
            None,
        ),
        (r#"{}"#, None, None),
    ];
    for (params, thread, turn) in cases {
        for method in ["future/notification", "", "thread/started/v2"] {
            let p = raw(params);
            let route = ServerNotification::route_raw(method, Some(&p));
            assert_eq!(route.thread_id.as_deref(), *thread, "{params}");
            assert_eq!(route.turn_id.as_deref(), *turn, "{params}");
            assert!(agrees_with_decode(method, Some(params)), "{params}");
        }
    }
}

/// (c) Escaped ids (owned, unescaped), escaped keys, null optional ids, non-string ids.
#[test]
fn escaped_null_and_non_string_ids() {
    let p =
        raw(r#"{"threadId":"thr\"1\\\u00e9","turnId":"turn_\u0031","itemId":"m","delta":"a\nb"}"#);
    let route = ServerNotification::route_raw("item/agentMessage/delta", Some(&p));
    assert_eq!(route.thread_id, Some(Cow::Owned("thr\"1\\é".to_owned())));
    assert_eq!(route.turn_id, Some(Cow::Owned("turn_1".to_owned())));
    assert!(agrees_with_decode("item/agentMessage/delta", Some(p.get())));

    // An escaped key is the key it spells.
    let p = r#"{"thread\u0049d":"T","\u0074urnId":"U","itemId":"m","delta":""}"#;
    assert!(agrees_with_decode("item/agentMessage/delta", Some(p)));
    assert!(agrees_with_decode("future/x", Some(p)));
    let p = raw(p);
    assert_eq!(
        ServerNotification::route_raw("item/agentMessage/delta", Some(&p)),
        RawRoute {
            thread_id: Some("T".into()),
            turn_id: Some("U".into())
        }
    );

    // Optional ids: null or absent give None (and the other id is still found).
    for (method, params, expected) in [
        (
            "warning",
            r#"{"message":"m","threadId":null}"#,
            (None, None),
        ),
        ("warning", r#"{"message":"m"}"#, (None, None)),
        (
            "warning",
            r#"{"threadId":"T","message":"m"}"#,
            (Some("T"), None),
        ),
        (
            "thread/goal/updated",
            r#"{"threadId":"T","turnId":null,"goal":{"threadId":"T","objective":"o","status":"active","tokenBudget":null,"tokensUsed":0,"timeUsedSeconds":0,"createdAt":1,"updatedAt":1}}"#,
            (Some("T"), None),
        ),
        (
            "mcpServer/startupStatus/updated",
            r#"{"name":"s","status":"starting","threadId":null}"#,
            (None, None),
        ),
    ] {
        let p = raw(params);
        let route = ServerNotification::route_raw(method, Some(&p));
        assert_eq!(
            (route.thread_id.as_deref(), route.turn_id.as_deref()),
            expected,
            "{method}"
        );
        assert!(
            agrees_with_decode(method, Some(params)),
            "{method} {params}"
        );
    }

    // Ids of another JSON type: None, never an error, and the rest of the params still read.
    for bad in [
        "5",
        "-1.5e300",
        "true",
        "null",
        "[]",
        r#"["T"]"#,
        "{}",
        r#"{"id":"T"}"#,
    ] {
        let params = format!(r#"{{"threadId":{bad},"turnId":"U","itemId":"m","delta":""}}"#);
        let p = raw(&params);
        let route = ServerNotification::route_raw("item/agentMessage/delta", Some(&p));
        assert_eq!(route.thread_id, None, "{params}");
        assert_eq!(route.turn_id.as_deref(), Some("U"), "{params}");
        agrees_with_decode("item/agentMessage/delta", Some(&params));
        agrees_with_decode("future/x", Some(&params));
        // A nested id place holding something else than an object, or an object whose `id` is
        // not a string.
        let params = format!(r#"{{"threadId":"T","turn":{bad}}}"#);
        let p = raw(&params);
        let route = ServerNotification::route_raw("turn/started", Some(&p));
        let value: Value = serde_json::from_str(&params).unwrap();
        let turn = at(&value, "params.turn.id"); // `Some("T")` for `{"id":"T"}` only
        assert_eq!(
            (route.thread_id.as_deref(), route.turn_id.as_deref()),
            (Some("T"), turn)
        );
        assert!(agrees_with_decode("future/x", Some(&params)));
        let params = format!(r#"{{"threadId":"T","turn":{{"id":{bad},"status":"x"}}}}"#);
        let p = raw(&params);
        let route = ServerNotification::route_raw("turn/started", Some(&p));
        assert_eq!(
            (route.thread_id.as_deref(), route.turn_id.as_deref()),
            (Some("T"), None)
        );
        agrees_with_decode("future/x", Some(&params));
    }

    // A repeated key: the last one, as in the `Value` an unknown method keeps (the typed params
    // reject repeated fields).
    let params =
        r#"{"threadId":"A","turn":{"id":"U1"},"threadId":"B","turn":{"id":"U2","id":"U3"}}"#;
    assert!(agrees_with_decode("future/x", Some(params)));
    assert!(!agrees_with_decode("turn/started", Some(params)));
    let p = raw(params);
    let route = ServerNotification::route_raw("future/x", Some(&p));
    assert_eq!(
        (route.thread_id.as_deref(), route.turn_id.as_deref()),
        (Some("B"), Some("U3"))
    );
    let params = r#"{"threadId":"A","threadId":null}"#;
    assert!(agrees_with_decode("future/x", Some(params)));
}

/// (c) Params absent, `null`, or not an object: no ids, for known and unknown methods alike.
#[test]
fn absent_null_and_non_object_params_have_no_ids() {
    for method in [
        "item/agentMessage/delta",
        "turn/started",
        "warning",
        "skills/changed",
        "future/x",
    ] {
        assert_eq!(
            ServerNotification::route_raw(method, None),
            RawRoute::default()
        );
        agrees_with_decode(method, None);
        for params in [
            "null",
            "[]",
            r#"[{"threadId":"T","turnId":"U"}]"#,
            r#""threadId""#,
            "0",
            "true",
            r#"[[[[{"threadId":"T"}]]]]"#,
        ] {
            let p = raw(params);
            assert_eq!(
                ServerNotification::route_raw(method, Some(&p)),
                RawRoute::default(),
                "{method} {params}"
            );
            agrees_with_decode(method, Some(params));
        }
    }
    // Known methods without routing ids do not look at the params at all.
    let p = raw(r#"{"threadId":"T","turnId":"U"}"#);
    assert_eq!(
        ServerNotification::route_raw("skills/changed", Some(&p)),
        RawRoute::default()
    );
}

/// The one documented difference from `decode`: params (or a `thread` / `turn` holding an id)
/// in array form, which serde's derived structs decode positionally, carry no ids for
/// `route_raw` — the app-server sends params by name, always as an object.
#[test]
fn array_params_are_the_documented_exception() {
    let p = raw(r#"["careful","thr_1"]"#);
    let n = ServerNotification::decode("warning", Some(&p)).unwrap();
    assert_eq!(n.thread_id(), Some("thr_1"));
    assert_eq!(
        ServerNotification::route_raw("warning", Some(&p)),
        RawRoute::default()
    );
    // Unknown methods keep a `Value`, where an array has no ids either: no difference there.
    assert!(agrees_with_decode(
        "future/x",
        Some(r#"["thr_1",{"threadId":"T"}]"#)
    ));
}

/// Deeply nested values (deeper than serde_json's recursion limit) are skipped without
/// recursing: no stack overflow, no panic.
#[test]
fn deep_nesting_is_skipped() {
    let depth = 100_000;
    let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let deep_obj = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
    for params in [
        format!(r#"{{"x":{deep},"threadId":"T","turn":{{"y":{deep_obj},"id":"U"}},"turnId":"V"}}"#),
        format!(r#"{{"thread":{deep},"threadId":"T","turnId":"V"}}"#),
        deep.clone(),
    ] {
        let p = raw(&params);
        for method in ["item/agentMessage/delta", "turn/started", "future/x"] {
            let route = ServerNotification::route_raw(method, Some(&p));
            if params.starts_with('[') {
                assert_eq!(route, RawRoute::default());
            } else {
                assert_eq!(route.thread_id.as_deref(), Some("T"), "{method}");
            }
        }
    }
}

/// (e) The byte scanner's own cases. Routes `params` under an unknown method (the fallback
/// places) and under `turn/started` (`threadId`, `turn.id`), checks the ids, and that the
/// unknown method agrees with decoding (a `Value`, so any params decode).
#[track_caller]
fn routes_to(
    params: &str,
    unknown: (Option<&str>, Option<&str>),
    turn_started: (Option<&str>, Option<&str>),
) {
    let p = raw(params);
    let route = ServerNotification::route_raw("future/x", Some(&p));
    assert_eq!(
        (route.thread_id.as_deref(), route.turn_id.as_deref()),
        unknown,
        "{params}"
    );
    assert!(agrees_with_decode("future/x", Some(params)), "{params}");
    let route = ServerNotification::route_raw("turn/started", Some(&p));
    assert_eq!(
        (route.thread_id.as_deref(), route.turn_id.as_deref()),
        turn_started,
        "{params}"
    );
}

/// JSON allows whitespace (space, tab, newline, carriage return) between any two tokens.
#[test]
fn whitespace_between_tokens() {
    let params = " {\n  \"threadId\" : \"T\" ,\r\n\t\"turn\":{ \"items\" : [ { \"id\" : \"no\" } , [ ] , 1 , true ] , \"id\"\n:\n\"U\" } , \"n\" : 1e3 , \"b\" : true ,\"z\" :null } \n";
    routes_to(params, (Some("T"), Some("U")), (Some("T"), Some("U")));
    let params = "{ \"conversationId\"\t:\t\"C\"\t,\"turnId\" : [ ] , \"turn\" : { } }";
    routes_to(params, (Some("C"), None), (None, None));
    routes_to("{ }", (None, None), (None, None));
    routes_to(" \n{\n}\n ", (None, None), (None, None));
    let p = raw(" [ { \"threadId\" : \"T\" } ] ");
    assert_eq!(
        ServerNotification::route_raw("future/x", Some(&p)),
        RawRoute::default()
    );
    // Still no allocation, and borrowed ids.
    let p =
        raw("{ \"threadId\" : \"thr_1\" ,\n \"turnId\" : \"turn_1\" , \"delta\" : \" \\\" \" }");
    let (route, allocations) =
        allocations_during(|| ServerNotification::route_raw("item/agentMessage/delta", Some(&p)));
    assert_eq!(allocations, 0);
    assert!(matches!(route.thread_id, Some(Cow::Borrowed("thr_1"))));
    assert!(matches!(route.turn_id, Some(Cow::Borrowed("turn_1"))));
}

/// Strings hold brackets, braces, escaped quotes and escaped backslashes (a string ending in
/// `\\` ends at the quote after it): skipped values and ids alike.
#[test]
fn brackets_and_escaped_quotes_inside_strings() {
    let params = r#"{"x":"}]\"{[","a\"}":{"k":"]}\\","l":["\"]",{"m":"}"}]},"threadId":"a}b]c\"","y":"\\\\","turn":{"s":"}\"","id":"[U]"},"z":"\\"}"#;
    routes_to(
        params,
        (Some("a}b]c\""), Some("[U]")),
        (Some("a}b]c\""), Some("[U]")),
    );
    let params = r#"{"x":"\\","threadId":"a\\","y":"\\\"","turnId":"\\\\","turn":{"id":"\"\\"}}"#;
    routes_to(
        params,
        (Some("a\\"), Some("\\\\")),
        (Some("a\\"), Some("\"\\")),
    );
    // `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\u` escapes (and a surrogate pair).
    let params =
        r#"{"threadId":"a\/b\b\f\n\r\t\u00e9\ud83d\ude00","skip":"\/\b\f\n\r\t\u005c\u0022"}"#;
    routes_to(
        params,
        (Some("a/b\u{8}\u{c}\n\r\té😀"), None),
        (Some("a/b\u{8}\u{c}\n\r\té😀"), None),
    );
    // The escaped id is owned, the unescaped one borrowed.
    let p = raw(r#"{"threadId":"a\\","turn":{"id":"}]"}}"#);
    let route = ServerNotification::route_raw("turn/started", Some(&p));
    assert!(matches!(route.thread_id, Some(Cow::Owned(_))));
    assert!(matches!(route.turn_id, Some(Cow::Borrowed("}]"))));
}

/// A key with escapes is the key it spells (wherever the escape is); a key that only looks like
/// an id key once its escapes are ignored is another key.
#[test]
fn escaped_keys() {
    let params =
        r#"{"\u0074\u0068\u0072\u0065\u0061\u0064\u0049\u0064":"T","tur\u006e":{"\u0069d":"U"}}"#;
    routes_to(params, (Some("T"), Some("U")), (Some("T"), Some("U")));
    let params = r#"{"conversation\u0049d":"C","thread":{"i\u0064":"T2"},"turn\u0049d":"U"}"#;
    routes_to(params, (Some("T2"), Some("U")), (None, None));
    // Not id keys: a quote, a slash or a NUL escaped inside, a backslash at either end.
    let params = r#"{"\"threadId":"no","threadId\"":"no","thread\/Id":"no","thread\u0000Id":"no","\\turnId":"no","turnId\\":"no","turn":{"\"id":"no","id\\":"no"}}"#;
    routes_to(params, (None, None), (None, None));
    // An escaped key that is not an id key costs its unescaping, nothing else.
    let params = r#"{"x\ty":1,"\u00e9":{"id":"no"},"threadId":"T","turnId":"U"}"#;
    routes_to(params, (Some("T"), Some("U")), (Some("T"), None));
}

/// Arrays of objects (and of arrays), nested at any depth, are skipped whole: the id keys
/// inside them are not id places.
#[test]
fn nested_arrays_of_objects() {
    let params = r#"{"items":[{"threadId":"no","turn":{"id":"no"}},[{"a":[{}],"threadId":"no"}],[]],"threadId":"T","turn":{"items":[{"id":"no"},[[{"id":"no"}]]],"id":"U","more":[[],{}]},"tail":[{"turnId":"no"}]}"#;
    routes_to(params, (Some("T"), Some("U")), (Some("T"), Some("U")));
    let params =
        r#"{"a":[[[[{"threadId":"no"}]]],{"b":[{"c":[{"turnId":"no"}]}]}],"conversationId":"C"}"#;
    routes_to(params, (Some("C"), None), (None, None));
}

/// Numbers in every JSON form (signs, fractions, exponents) end where the next token starts.
#[test]
fn numbers_with_exponents() {
    let params = r#"{"a":1e5,"b":-1.5E-300,"c":2E+10,"threadId":"T","d":0.0e0,"e":[1e1,-2E-2,0],"turnId":"U","f":-0,"g":{"h":12345678901234567890123e-5}}"#;
    routes_to(params, (Some("T"), Some("U")), (Some("T"), None));
    // Numbers at id places: no id.
    let params = r#"{"threadId":1e5,"conversationId":"C","turnId":-2E+3,"turn":{"id":1.5e-3}}"#;
    routes_to(params, (Some("C"), None), (None, None));
    let params = r#"{"threadId":"T","turn":{"id":-0.5E+1},"x":1E300}"#;
    routes_to(params, (Some("T"), None), (Some("T"), None));
}

/// An id escaped so that it is not a Rust string (a lone surrogate, which JSON text may hold):
/// the scan gives no ids at all, as serde_json's scan did ("no ids rather than half of them");
/// no decode can succeed either. Never a panic.
#[test]
fn lone_surrogate_ids_give_no_ids() {
    let all = ["future/x", "turn/started", "item/agentMessage/delta"];
    for (params, methods) in [
        (r#"{"threadId":"\ud800","turnId":"U"}"#, &all[..]),
        (r#"{"turnId":"U","turn":{"id":"\udc00x"}}"#, &all[..2]),
        // Any escaped key is unescaped to be compared.
        (r#"{"\ud800":1,"threadId":"T"}"#, &all[..]),
    ] {
        let p = raw(params);
        for method in methods {
            assert_eq!(
                ServerNotification::route_raw(method, Some(&p)),
                RawRoute::default(),
                "{method} {params}"
            );
            assert!(!agrees_with_decode(method, Some(params)), "{params}");
        }
    }
    // In a value that is skipped (not an id place, or one the method does not read), it is
    // skipped like any other string.
    let p = raw(r#"{"x":"\ud800","threadId":"T"}"#);
    let route = ServerNotification::route_raw("future/x", Some(&p));
    assert_eq!(route.thread_id.as_deref(), Some("T"));
    let p = raw(r#"{"turnId":"U","turn":{"id":"\udc00x"}}"#);
    let route = ServerNotification::route_raw("item/agentMessage/delta", Some(&p));
    assert_eq!(route.turn_id.as_deref(), Some("U"));
}

/// Unescaped ids are borrowed and nothing is allocated — escaped text in the other values (an
/// agent-message delta) and deeply nested skipped values included.
#[test]
fn route_raw_allocates_nothing() {
    let cases = [
        (
            "item/agentMessage/delta",
            r#"{"threadId":"thr_1","turnId":"turn_1","itemId":"msg_1","delta":"line\none \"quoted\" \u00e9"}"#,
        ),
        (
            "turn/started",
            r#"{"threadId":"thr_1","turn":{"id":"turn_1","items":[],"status":"inProgress","error":null,"startedAt":1}}"#,
        ),
        (
            "thread/started",
            r#"{"thread":{"id":"thr_1","preview":"a\tb","cwd":"/tmp"}}"#,
        ),
        (
            "item/started",
            r#"{"threadId":"thr_1","turnId":"turn_1","startedAtMs":5,"item":{"type":"agentMessage","id":"m","text":"x\ny"}}"#,
        ),
        (
            "future/x",
            r#"{"x":"\"","conversationId":"c","thread":{"n":1},"turn":{"id":"u"},"y":[1,2]}"#,
        ),
        ("warning", r#"{"message":"m","threadId":null}"#),
    ];
    for (method, params) in cases {
        let p = raw(params);
        let (route, allocations) =
            allocations_during(|| ServerNotification::route_raw(method, Some(&p)));
        assert_eq!(allocations, 0, "{method} {params}");
        // (`thread/started`'s params here are not a whole `Thread`: no decode to compare with.)
        assert!(
            agrees_with_decode(method, Some(params)) || method == "thread/started",
            "{method}: {:?}",
            ServerNotification::decode(method, Some(&p))
        );
        for id in [&route.thread_id, &route.turn_id].into_iter().flatten() {
            assert!(matches!(id, Cow::Borrowed(_)), "{method}: {id:?}");
        }
    }
    // A skipped value several containers deep: skipped by counting brackets, no allocation
    // (serde_json's skipper, used before the byte scanner, allocated a nesting stack here).
    let p = raw(r#"{"threadId":"thr_1","turnId":"turn_1","item":{"content":[{"a":[[[]]]}]}}"#);
    let (route, allocations) =
        allocations_during(|| ServerNotification::route_raw("item/agentMessage/delta", Some(&p)));
    assert_eq!(route.thread_id.as_deref(), Some("thr_1"));
    assert_eq!(allocations, 0);
    // An escaped id is the one thing the scan itself allocates.
    let p = raw(r#"{"threadId":"thr\u005f1","turnId":"turn_1"}"#);
    let (route, allocations) =
        allocations_during(|| ServerNotification::route_raw("item/agentMessage/delta", Some(&p)));
    assert_eq!(route.thread_id.as_deref(), Some("thr_1"));
    assert!(matches!(route.turn_id, Some(Cow::Borrowed("turn_1"))));
    assert!(allocations <= 2, "{allocations}"); // the owned id (and a scratch buffer)
}

// (d) Generated params: random extra keys, the id keys in random order, ids of every kind.

/// A string id, with characters that need escaping now and then.
fn id_text() -> impl Strategy<Value = String> {
    "[a-z0-9_-]{0,8}|[a-z\"\\\\\n\u{e9}\u{1f600}/]{1,6}"
}

/// The value at an id place: usually a string, sometimes any other JSON type.
fn id_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => id_text().prop_map(Value::String),
        1 => Just(Value::Null),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => id_text().prop_map(|s| serde_json::json!([s])),
        1 => id_text().prop_map(|s| serde_json::json!({"id": s})),
    ]
}

/// Any JSON value, nested a few levels, with id-like keys inside (which must not be found).
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        id_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..4)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// An extra key: a random name, or one of the id keys (repeated keys, ids in nested objects).
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z]{1,10}",
        1 => prop::sample::select(vec!["threadId", "turnId", "thread", "turn", "conversationId", "id"])
            .prop_map(str::to_owned),
    ]
}

/// A key as JSON text, sometimes with its first character written as a `\u` escape.
fn key_text(key: &str, escape: bool) -> String {
    match key.chars().next() {
        Some(c) if escape && c.is_ascii() => {
            format!("\"\\u{:04x}{}\"", c as u32, &key[c.len_utf8()..])
        }
        _ => serde_json::to_string(key).unwrap(),
    }
}

/// An object as JSON text from its entries, in their order (repeated keys kept).
fn object_text(entries: &[(String, String, bool)]) -> String {
    let body: Vec<String> = entries
        .iter()
        .map(|(k, v, escape)| format!("{}:{v}", key_text(k, *escape)))
        .collect();
    format!("{{{}}}", body.join(","))
}

/// A `thread` / `turn` value: usually an object holding `id` among extra keys, in random order.
fn nested_value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (id_value(), prop::collection::vec(("[a-z]{1,6}", any_json()), 0..4), any::<prop::sample::Index>(), any::<bool>())
            .prop_map(|(id, extra, at, escape)| {
                let mut entries: Vec<(String, String, bool)> =
                    extra.into_iter().map(|(k, v)| (k, v.to_string(), false)).collect();
                let at = at.index(entries.len() + 1);
                entries.insert(at, ("id".into(), id.to_string(), escape));
                object_text(&entries)
            }),
        1 => any_json().prop_map(|v| v.to_string()),
    ]
}

/// Params: a random subset of the five id places and random extra keys, shuffled.
fn params_text() -> impl Strategy<Value = String> {
    let places = (
        prop::option::of(id_value()),
        prop::option::of(nested_value()),
        prop::option::of(id_value()),
        prop::option::of(id_value()),
        prop::option::of(nested_value()),
    );
    let extra = prop::collection::vec((key(), any_json(), any::<bool>()), 0..6);
    (places, extra)
        .prop_flat_map(
            |((thread_id, thread, conversation, turn_id, turn), extra)| {
                let mut entries: Vec<(String, String, bool)> = extra
                    .into_iter()
                    .map(|(k, v, escape)| (k, v.to_string(), escape))
                    .collect();
                let places = [
                    ("threadId", thread_id.map(|v| v.to_string())),
                    ("thread", thread),
                    ("conversationId", conversation.map(|v| v.to_string())),
                    ("turnId", turn_id.map(|v| v.to_string())),
                    ("turn", turn),
                ];
                for (k, v) in places {
                    if let Some(v) = v {
                        entries.push((k.to_owned(), v, false));
                    }
                }
                Just(entries).prop_shuffle()
            },
        )
        .prop_map(|entries| object_text(&entries))
}

/// JSON text with `ws` before and after every `{`, `}`, `[`, `]`, `,` and `:` outside strings,
/// so between any two tokens.
fn spaced(text: &str, ws: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            out.push(c);
            (in_string, escaped) = match (escaped, c) {
                (true, _) => (true, false),
                (false, '\\') => (true, true),
                (false, '"') => (false, false),
                (false, _) => (true, false),
            };
        } else if matches!(c, '{' | '}' | '[' | ']' | ',' | ':') {
            out.push_str(ws);
            out.push(c);
            out.push_str(ws);
        } else {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}

/// Params a known method decodes: `item/agentMessage/delta` (flat), `turn/started` (turn id in
/// a nested object), `warning` (optional thread id), with extra keys, all in random order.
fn decodable() -> impl Strategy<Value = (&'static str, String)> {
    let extra = || prop::collection::vec(("x[a-zA-Z]{0,8}", any_json()), 0..5);
    let shuffled =
        |method: &'static str, entries: Vec<(String, String)>, extra: Vec<(String, Value)>| {
            let mut entries: Vec<(String, String, bool)> =
                entries.into_iter().map(|(k, v)| (k, v, false)).collect();
            entries.extend(extra.into_iter().map(|(k, v)| (k, v.to_string(), false)));
            (
                Just(method),
                Just(entries).prop_shuffle(),
                prop::collection::vec(any::<bool>(), 8),
            )
                .prop_map(|(method, mut entries, escapes)| {
                    for (e, escape) in entries.iter_mut().zip(escapes) {
                        e.2 = escape;
                    }
                    (method, object_text(&entries))
                })
        };
    let s = |v: String| Value::String(v).to_string();
    prop_oneof![
        (id_text(), id_text(), extra()).prop_flat_map(move |(t, u, extra)| {
            shuffled(
                "item/agentMessage/delta",
                vec![
                    ("threadId".into(), s(t)),
                    ("turnId".into(), s(u)),
                    ("itemId".into(), s("m".into())),
                    ("delta".into(), s("a\n\"b\"".into())),
                ],
                extra,
            )
        }),
        (id_text(), id_text(), extra(), extra()).prop_flat_map(move |(t, u, turn_extra, extra)| {
            let mut turn: Vec<(String, String, bool)> = vec![
                ("id".into(), s(u), false),
                ("items".into(), "[]".into(), false),
                ("status".into(), s("inProgress".into()), false),
            ];
            turn.extend(
                turn_extra
                    .into_iter()
                    .map(|(k, v)| (k, v.to_string(), false)),
            );
            (Just(turn).prop_shuffle(), Just(t), Just(extra)).prop_flat_map(
                move |(turn, t, extra)| {
                    shuffled(
                        "turn/started",
                        vec![
                            ("threadId".into(), s(t)),
                            ("turn".into(), object_text(&turn)),
                        ],
                        extra,
                    )
                },
            )
        }),
        (prop::option::of(prop::option::of(id_text())), extra()).prop_flat_map(
            move |(t, extra)| {
                let mut entries = vec![("message".into(), s("careful".into()))];
                match t {
                    Some(Some(t)) => entries.push(("threadId".into(), s(t))),
                    Some(None) => entries.push(("threadId".into(), "null".into())),
                    None => {}
                }
                shuffled("warning", entries, extra)
            }
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Unknown methods: always decodable (the params are kept as a `Value`), so always equal.
    #[test]
    fn unknown_methods_route_as_decoded(params in params_text(), method in "[a-z]{1,8}/[a-zA-Z]{1,8}") {
        prop_assume!(!notifications::METHODS.contains(&method.as_str()));
        prop_assert!(agrees_with_decode(&method, Some(&params)), "{}", params);
    }

    /// Known methods on arbitrary params: the ROUTING places (read as a `Value`, a repeated key
    /// being the last), and the decoded ids whenever the decode succeeds.
    #[test]
    fn known_methods_read_the_routing_places(
        params in params_text(),
        (method, thread, turn) in prop::sample::select(notifications::ROUTING),
    ) {
        let value: Value = serde_json::from_str(&params).unwrap();
        let p = raw(&params);
        let route = ServerNotification::route_raw(method, Some(&p));
        prop_assert_eq!(route.thread_id.as_deref(), thread.and_then(|path| at(&value, path)), "{}", params);
        prop_assert_eq!(route.turn_id.as_deref(), turn.and_then(|path| at(&value, path)), "{}", params);
        agrees_with_decode(method, Some(&params));
    }

    /// Params that decode, ids and extra keys in random order (escaped keys too): equal.
    #[test]
    fn decodable_params_route_as_decoded((method, params) in decodable()) {
        prop_assert!(agrees_with_decode(method, Some(&params)), "{} {}", method, params);
    }

    /// The same params with whitespace between every two tokens: the same ids.
    #[test]
    fn whitespace_changes_nothing(
        params in params_text(),
        ws in prop::sample::select(vec![" ", "\n", "\t", "\r\n", " \n\t\r "]),
        method in prop::sample::select(vec!["turn/started", "item/agentMessage/delta", "thread/started", "future/x"]),
    ) {
        let spaced_params = spaced(&params, ws);
        let (p, q) = (raw(&params), raw(&spaced_params));
        let route = ServerNotification::route_raw(method, Some(&p));
        let spaced_route = ServerNotification::route_raw(method, Some(&q));
        prop_assert_eq!(pair(&spaced_route), pair(&route), "{}", spaced_params);
    }

    /// Any JSON at all as params, under any method: no panic, and as decoded when it decodes.
    #[test]
    fn any_params_never_panic(params in any_json(), method in prop::sample::select(vec!["turn/started", "warning", "future/x", "thread/started"])) {
        agrees_with_decode(method, Some(&params.to_string()));
    }
}

// (f) `decode_routed`: the decoded value reports the ids the notification was routed by.

/// `decode_routed` on `params`, with the route `route_raw` reads from them; asserts the value
/// reports that route, and returns it.
#[track_caller]
fn decode_as_routed(
    method: &str,
    params: Option<&str>,
) -> (
    ServerNotification,
    Option<codex_client_protocol::DecodeError>,
) {
    let p = params.map(raw);
    let route = ServerNotification::route_raw(method, p.as_deref());
    let (n, why) = ServerNotification::decode_routed(method, params, &route);
    assert_eq!(
        (n.thread_id(), n.turn_id()),
        (route.thread_id.as_deref(), route.turn_id.as_deref()),
        "{method} {params:?} → {n:?}"
    );
    assert_eq!(n.method(), method);
    (n, why)
}

/// The fuzzer's find: `turn/started` with a `turn.id` and a `turnId`, params that do not decode
/// (the turn has no status). Routed by `turn.id` (the schema's place), and decoded as `Unknown`
/// reporting `turn.id` too — before, `Unknown` read `turnId` first, so T1's stream got an event
/// of "T2", and a `turn/completed` of that shape ended T1's route while saying it was T2's.
#[test]
fn undecodable_params_report_the_ids_they_were_routed_by() {
    for method in ["turn/started", "turn/completed"] {
        let params = r#"{"threadId":"th","turn":{"id":"T1"},"turnId":"T2"}"#;
        let (n, why) = decode_as_routed(method, Some(params));
        assert!(matches!(n, ServerNotification::Unknown { .. }), "{n:?}");
        assert!(why.is_some_and(|e| e.method == method));
        assert_eq!(n.turn_id(), Some("T1"));
    }
    // A method whose schema has no turn id: an `Unknown` of it has none either.
    let (n, _) = decode_as_routed(
        "thread/started",
        Some(r#"{"thread":{"id":"th"},"turnId":"U"}"#),
    );
    assert_eq!((n.thread_id(), n.turn_id()), (Some("th"), None));
    // Unknown methods keep the usual places, in order.
    let (n, why) = decode_as_routed("future/x", Some(r#"{"turn":{"id":"T1"},"turnId":"T2"}"#));
    assert!(why.is_none());
    assert_eq!(n.turn_id(), Some("T2"));
}

/// What was `array_params_are_the_documented_exception` for `decode`: `decode_routed` gives
/// `Unknown` with no ids for params (or a `turn` / `thread`) in array form, as routing reads them.
#[test]
fn array_params_decode_as_unknown_without_ids() {
    for (method, params) in [
        ("warning", r#"["careful","thr_1"]"#),
        // `Turn`'s fields in order: completedAt, durationMs, error, id, items, itemsView,
        // rootTurnId, startedAt, status.
        (
            "turn/started",
            r#"{"threadId":"th","turn":[null,null,null,"T1",[],null,null,null,"inProgress"]}"#,
        ),
        (
            "turn/started",
            r#"["th",{"id":"T1","items":[],"status":"inProgress"}]"#,
        ),
    ] {
        let typed = ServerNotification::decode_str(method, Some(params)).unwrap();
        assert!(
            typed.thread_id().is_some() || typed.turn_id().is_some(),
            "positional"
        );
        let (n, why) = decode_as_routed(method, Some(params));
        assert!(matches!(n, ServerNotification::Unknown { .. }), "{n:?}");
        assert!(why.is_some(), "{params}");
    }
}

/// Params that are JSON text but no `serde_json::Value`: `Unknown` with only the routing ids,
/// at their places; the error keeps the raw text.
#[test]
fn params_that_are_no_json_value_keep_their_routing_ids() {
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    for (method, params) in [
        (
            "item/agentMessage/delta",
            r#"{"threadId":"th","turnId":"T","itemId":"i","delta":"\ud800"}"#.to_owned(),
        ),
        (
            "turn/completed",
            r#"{"threadId":"th","turn":{"id":"T","x":1e999}}"#.to_owned(),
        ),
        (
            "future/x",
            format!(r#"{{"threadId":"th","turnId":"T","deep":{deep}}}"#),
        ),
    ] {
        assert!(serde_json::from_str::<Value>(&params).is_err(), "{params}");
        let (n, why) = decode_as_routed(method, Some(&params));
        assert_eq!(
            (n.thread_id(), n.turn_id()),
            (Some("th"), Some("T")),
            "{params}"
        );
        assert_eq!(why.map(|e| e.raw), Some(params));
    }
}

/// Params that decode, with their ids: the typed value, no error.
#[test]
fn decodable_params_decode_into_their_type() {
    let (n, why) = decode_as_routed(
        "item/agentMessage/delta",
        Some(r#"{"threadId":"th","turnId":"T","itemId":"i","delta":"hi"}"#),
    );
    assert!(matches!(n, ServerNotification::ItemAgentMessageDelta(_)));
    assert!(why.is_none());
    let (n, why) = decode_as_routed("future/x", None);
    assert!(matches!(
        n,
        ServerNotification::Unknown {
            params: Value::Null,
            ..
        }
    ));
    assert!(why.is_none());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary params under every known method and an unknown one: the decoded value reports
    /// the route, always.
    #[test]
    fn decode_routed_always_reports_the_route(
        params in params_text(),
        method in prop::sample::select(
            notifications::METHODS.iter().copied().chain(["future/x"]).collect::<Vec<_>>(),
        ),
    ) {
        decode_as_routed(method, Some(&params));
    }

    /// Any JSON, and params that decode: the route, and the typed value where it decodes.
    #[test]
    fn decode_routed_agrees_on_any_json(params in any_json(), (method, good) in decodable()) {
        decode_as_routed("turn/started", Some(&params.to_string()));
        decode_as_routed("future/x", Some(&params.to_string()));
        let (n, why) = decode_as_routed(method, Some(&good));
        prop_assert!(why.is_none() && !matches!(n, ServerNotification::Unknown { .. }), "{}", good);
    }
}
