//! Images and text in one turn: a text item, an image by URL (`https://` or a `data:` URL) and
//! a local image file (read by the app-server and sent inline).
//!
//! Needs `codex` installed and logged in; found through `CODEX_BIN`, the active virtualenv, then `PATH`.
//! Run: `cargo run --example image_and_text -- path/to/picture.png` (set `IMAGE_URL` to send an
//! image by address instead of the built-in `data:` URL).

use codex_client::{Codex, Input, InputItem, ThreadOptions};

/// A 1×1 PNG as a `data:` URL, so the example sends an image without naming any host.
const TINY_PNG: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let local = std::env::args().nth(1);
    let image_url = std::env::var("IMAGE_URL").unwrap_or_else(|_| TINY_PNG.to_owned());
    let codex = Codex::start().await?;
    let thread = codex.threads().start(ThreadOptions::new()).await?;

    // Build the input item by item...
    let mut input = Input::new()
        .text("Describe each image in one sentence.")
        .image_url(image_url);
    if let Some(path) = &local {
        // The path is read on the machine the app-server runs on.
        let path = std::fs::canonicalize(path)?;
        input = input.local_image(path);
    }
    let result = thread.run(input).await?;
    println!("{}", result.final_response().unwrap_or("(no answer)"));

    // ...or from a list: anything that converts into `InputItem` (a `&str` is a text item).
    let follow_up = vec![
        InputItem::text("Which of them has the most colours?"),
        InputItem::text("Answer with one word."),
    ];
    let result = thread.run(follow_up).await?;
    println!("{}", result.final_response().unwrap_or("(no answer)"));
    codex.close().await;
    Ok(())
}
