//! The generator on a small crate in memory: a borrowed group handle (`Threads<'a>`, as the
//! handles of issue 18 borrow the `Codex`), an owned type, a client-making call, a private
//! module's item named through its parent's re-export, and the parity errors.

use super::source::Crate;
use super::{Exception, HandWritten, Kind, Wrapped, emit};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const FILES: &[(&str, &str)] = &[
    (
        "src/lib.rs",
        "pub mod api;\nmod error;\npub use error::Result;\n",
    ),
    (
        "src/error.rs",
        "pub type Result<T> = std::result::Result<T, ()>;\n",
    ),
    (
        "src/api/mod.rs",
        "mod codex;\nmod threads;\npub use codex::Codex;\npub use threads::{Thread, ThreadOptions, Threads};\n",
    ),
    (
        "src/api/codex.rs",
        r#"
use super::threads::Threads;
use crate::Result;
/// The client.
#[derive(Debug, Clone)]
pub struct Codex;
impl Codex {
    /// Starts one, see [`Threads`].
    ///
    /// ```
    /// async code here
    /// ```
    pub async fn start() -> Result<Codex> { todo!() }
    /// The thread calls.
    pub fn threads(&self) -> Threads<'_> { Threads { codex: self } }
}
"#,
    ),
    (
        "src/api/threads.rs",
        r#"
use crate::api::Codex;
/// The thread calls.
#[derive(Debug, Clone, Copy)]
pub struct Threads<'a> { codex: &'a Codex }
/// A thread.
#[derive(Debug, Clone)]
pub struct Thread;
/// Options.
pub struct ThreadOptions;
impl<'a> Threads<'a> {
    /// Starts a thread with [`ThreadOptions`].
    pub async fn start(&self, options: ThreadOptions) -> crate::Result<Thread> { todo!() }
    /// Every thread.
    pub async fn list(&self) -> crate::Result<Vec<Thread>> { todo!() }
    /// The client.
    pub fn codex(&self) -> &'a Codex { self.codex }
}
impl Thread {
    /// Its id.
    pub fn id(&self) -> &str { "t" }
}
"#,
    ),
];

fn krate(extra: &str) -> Crate {
    let files: HashMap<PathBuf, String> = FILES
        .iter()
        .map(|(p, t)| {
            let text = if *p == "src/api/threads.rs" {
                format!("{t}{extra}")
            } else {
                (*t).to_owned()
            };
            (PathBuf::from(p), text)
        })
        .collect();
    let read = move |p: &Path| files.get(p).cloned();
    Crate::load(Path::new("src/lib.rs"), &["blocking"], &read).expect("the crate loads")
}

const TABLE: &[Wrapped] = &[
    Wrapped {
        name: "Codex",
        kind: Kind::Owned,
    },
    Wrapped {
        name: "Threads",
        kind: Kind::Borrowed,
    },
    Wrapped {
        name: "Thread",
        kind: Kind::Owned,
    },
];

fn hand() -> HandWritten {
    HandWritten {
        methods: vec![("Threads".into(), "codex".into())],
        examples: vec!["Codex".into(), "Threads".into(), "Thread".into()],
    }
}

const EXCEPTIONS: &[(&str, &str, Exception)] =
    &[("Threads", "codex", Exception::Hand("returns a reference"))];

fn generate(extra: &str) -> anyhow::Result<String> {
    let text = emit::generate(&krate(extra), TABLE, EXCEPTIONS, &hand())?;
    super::super::rustfmt(&text)
}

#[test]
fn a_borrowed_handle_borrows_the_runtime_and_hands_out_owned_twins() {
    let out = generate("").expect("generates");
    for expected in [
        "#[derive(Clone, Copy)]\npub struct Threads<'a> {\n    pub(super) inner: crate::api::Threads<'a>,\n    pub(super) shared: &'a Arc<ClientRuntime>,\n}",
        "pub fn threads(&self) -> Threads<'_> {\n        Threads::wrap(self.inner.threads(), &self.shared)\n    }",
        "impl<'a> Threads<'a> {",
        "pub fn start(&self, options: crate::api::ThreadOptions) -> crate::Result<Thread> {\n        self.shared\n            .wait(self.inner.start(options))\n            .map(|v| Thread::wrap(v, self.shared))",
        "v.into_iter()\n                .map(|v| Thread::wrap(v, self.shared))\n                .collect()",
        "pub fn start() -> crate::Result<Codex> {\n        ClientRuntime::start(crate::api::Codex::start())\n            .map(|(inner, shared)| Codex::wrap(inner, &shared))",
        "#[derive(Clone)]\npub struct Codex {",
        "/// Starts one, see [`Threads`].\n    ///\n    /// Blocks the calling thread until [`crate::api::Codex::start`] completes",
        "/// Starts a thread with [`ThreadOptions`](crate::api::ThreadOptions).",
    ] {
        assert!(
            out.contains(expected),
            "missing:\n{expected}\n--- in:\n{out}"
        );
    }
    assert!(!out.contains("async code here"), "code blocks are left out");
    assert!(
        !out.contains("pub fn codex"),
        "the exception is not generated"
    );
}

#[test]
fn a_method_the_generator_cannot_mirror_fails_naming_the_exceptions_table() {
    let extra = "impl Thread {\n    /// Merges.\n    pub fn merge(&self, other: Thread) -> Thread { other }\n}\n";
    let err = format!("{:#}", generate(extra).unwrap_err());
    assert!(
        err.contains("`Thread::merge` has no blocking twin"),
        "{err}"
    );
    assert!(err.contains("EXCEPTIONS"), "{err}");
}

#[test]
fn a_hand_written_exception_must_exist_and_a_stale_one_fails() {
    let mut missing = hand();
    missing.methods.clear();
    let err = emit::generate(&krate(""), TABLE, EXCEPTIONS, &missing).unwrap_err();
    assert!(
        format!("{err:#}").contains("src/blocking/ has no `pub fn codex`"),
        "{err:#}"
    );

    let stale = &[
        EXCEPTIONS[0],
        ("Thread", "gone", Exception::Omit("was removed")),
    ];
    let err = emit::generate(&krate(""), TABLE, stale, &hand()).unwrap_err();
    assert!(format!("{err:#}").contains("`Thread::gone`"), "{err:#}");
}

#[test]
fn a_type_without_an_example_fails() {
    let mut no_example = hand();
    no_example.examples.retain(|e| e != "Thread");
    let err = emit::generate(&krate(""), TABLE, EXCEPTIONS, &no_example).unwrap_err();
    assert!(err.to_string().contains("no example"), "{err}");
}
