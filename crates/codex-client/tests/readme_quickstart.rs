//! The README's quickstart is `examples/quickstart.rs`, line for line (without the example's
//! opening doc comment): the example is built by `cargo check --all-targets`, so the README's
//! code compiles as long as the two agree.

#[test]
fn the_readme_quickstart_is_the_quickstart_example() {
    let readme = include_str!("../../../README.md");
    let example = include_str!("../examples/quickstart.rs");
    let start = "```rust,no_run\nuse codex_client::protocol::ServerNotification;";
    let at = readme
        .find(start)
        .expect("the README has the quickstart's code block");
    let code = &readme[at + "```rust,no_run\n".len()..];
    let code = &code[..code.find("```").expect("the block ends")];
    let example: String = example
        .lines()
        .filter(|line| !line.starts_with("//!"))
        .skip_while(|line| line.is_empty())
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(
        code, example,
        "README.md's quickstart and examples/quickstart.rs differ: change both"
    );
}
