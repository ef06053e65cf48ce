//! Schema `description`s to rustdoc that `cargo doc -D warnings` accepts: brackets and angle
//! brackets are escaped (no accidental intra-doc links or HTML tags), bare URLs become autolinks,
//! indented lines are not turned into doctests, fenced blocks are marked `text`.

/// Renders `text` as `///` lines with the given indentation.
pub fn doc_lines(text: &str, indent: &str) -> String {
    let mut out = String::new();
    for line in markdown(text) {
        if line.is_empty() {
            out.push_str(&format!("{indent}///\n"));
        } else {
            out.push_str(&format!("{indent}/// {line}\n"));
        }
    }
    out
}

/// The description as safe markdown lines.
pub fn markdown(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_fence = false;
    for raw in text.replace("\r\n", "\n").replace('\r', "\n").lines() {
        let trimmed = raw.trim_start();
        if trimmed.starts_with("```") {
            if in_fence {
                out.push("```".to_string());
            } else {
                out.push("```text".to_string());
            }
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            out.push(raw.trim_end().to_string());
        } else {
            out.push(escape_line(trimmed.trim_end()));
        }
    }
    if in_fence {
        out.push("```".to_string());
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out
}

fn escape_line(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '`' {
            let run = chars[i..].iter().take_while(|&&c| c == '`').count();
            // find a closing run of the same length
            let mut j = i + run;
            let mut close = None;
            while j < chars.len() {
                if chars[j] == '`' {
                    let r = chars[j..].iter().take_while(|&&c| c == '`').count();
                    if r == run {
                        close = Some(j);
                        break;
                    }
                    j += r;
                } else {
                    j += 1;
                }
            }
            match close {
                Some(j) => {
                    out.extend(&chars[i..j + run]);
                    i = j + run;
                }
                None => {
                    for _ in 0..run {
                        out.push_str("\\`");
                    }
                    i += run;
                }
            }
            continue;
        }
        let rest: String = chars[i..].iter().collect();
        if rest.starts_with("http://") || rest.starts_with("https://") {
            let mut len = rest
                .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '`' | ')'))
                .unwrap_or(rest.len());
            while len > 0 && rest[..len].ends_with(['.', ',', ';', ':', '!', '?', '\'']) {
                len -= 1;
            }
            out.push('<');
            out.push_str(&rest[..len]);
            out.push('>');
            i += rest[..len].chars().count();
            continue;
        }
        match c {
            '[' | ']' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            markdown("[UNSTABLE] see `a[0]` and <T> at https://x.y/z."),
            vec!["\\[UNSTABLE\\] see `a[0]` and \\<T\\> at <https://x.y/z>."]
        );
        assert_eq!(
            markdown("    indented\n```\ncode\n```"),
            vec!["indented", "```text", "code", "```"]
        );
        assert_eq!(markdown("odd ` tick"), vec!["odd \\` tick"]);
    }
}
