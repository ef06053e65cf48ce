//! The life of a thread: start, name, list (with a filter and paging), read with its turns,
//! fork, archive, list the archived ones, unarchive.
//!
//! Needs `codex` installed and logged in; found through `CODEX_BIN`, the active virtualenv, then `PATH`.
//! Run: `cargo run --example thread_lifecycle`

use codex_client::{Codex, Error, ListThreads, ThreadOptions};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let codex = Codex::start().await?;

    let mut thread = codex.threads().start(ThreadOptions::new()).await?;
    thread.run("Say 'ready' and nothing else.").await?;
    thread.set_name("lifecycle example").await?;
    println!("started and named {} ({:?})", thread.id(), thread.name());

    // List, a page at a time. The cursor has one-second resolution (see docs/faq.md): a page
    // size that splits threads created in the same second skips some on the next page.
    let mut query = ListThreads::new().limit(20).search("lifecycle");
    loop {
        let page = codex.threads().list(query.clone()).await?;
        for t in &page.threads {
            println!("  listed {} {:?} {:?}", t.id, t.name, t.preview);
        }
        match page.next_cursor {
            Some(cursor) => query = query.cursor(cursor),
            None => break,
        }
    }

    // The live state, with its turns (the `Thread` itself is a snapshot; `refresh` updates it).
    let now = thread.read_with_turns().await?;
    println!("read: status {:?}, {} turn(s)", now.status, now.turns.len());
    thread.refresh().await?;

    // A fork is a new thread with the same history.
    let fork = thread.fork(ThreadOptions::new()).await?;
    println!(
        "forked into {} (from {:?})",
        fork.id(),
        fork.info().forked_from_id
    );

    thread.archive().await?;
    let archived = codex
        .threads()
        .list(ListThreads::new().archived(true).limit(50))
        .await?;
    let found = archived.threads.iter().any(|t| t.id == thread.id());
    println!("archived; in the archived list: {found}");

    let back = codex.threads().unarchive(thread.id()).await?;
    println!("unarchived {} ({})", back.id(), back.preview());

    // Clean up the fork too.
    fork.archive().await?;
    codex.close().await;
    Ok(())
}
