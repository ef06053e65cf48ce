//! The scanner: a forward-only byte scan of a params text ([`Cursor`]) that reads only the
//! keys and the values routing wants and jumps over every other value. It trusts the text to
//! be valid JSON, as a `RawValue` is, and gives no ids rather than panicking when it is not.

use super::id_path::IdPath;
use std::borrow::Cow;

/// The id found at each [`IdPath`] (indexed by it): a string, or `None` when the place is
/// absent, holds another JSON type, or was not wanted.
pub(super) type Found<'a> = [Option<Cow<'a, str>>; 5];

/// The ids at the wanted places (a bit set of [`IdPath::bit`]) of a params text: a byte scan
/// of the params object's members (see [`Cursor`]). The params come from a `RawValue` (valid
/// JSON), so the scan does not fail; if it ever did, no ids rather than half of them.
pub(super) fn scan(raw: &str, want: u8) -> Found<'_> {
    let mut found = Found::default();
    match Cursor::new(raw).params(want, &mut found) {
        Some(()) => found,
        None => Found::default(),
    }
}

/// An id (borrowed from the params text unless it has escapes), or `None` when the place holds
/// another JSON type.
type Id<'a> = Option<Cow<'a, str>>;

/// A key of the params object, or of a nested `thread` / `turn` object.
enum Key {
    /// A key some [`IdPath`] starts with (`threadId`, `thread`, `conversationId`, `turnId`,
    /// `turn`).
    Path(IdPath),
    /// `id` (wanted inside `thread` / `turn`).
    Id,
    /// Any other key.
    Other,
}

impl Key {
    /// The key an (unescaped) key name is. Compared by length first, so that each comparison
    /// is of a known size (a load or two, not a call).
    #[inline(always)]
    fn of(name: &[u8]) -> Key {
        match name.len() {
            2 if name == b"id" => Key::Id,
            4 if name == b"turn" => Key::Path(IdPath::TurnDotId),
            6 if name == b"thread" => Key::Path(IdPath::ThreadDotId),
            6 if name == b"turnId" => Key::Path(IdPath::TurnId),
            8 if name == b"threadId" => Key::Path(IdPath::ThreadId),
            14 if name == b"conversationId" => Key::Path(IdPath::ConversationId),
            _ => Key::Other,
        }
    }
}

/// A forward-only scanner over a params text, which it trusts to be valid JSON (it comes from a
/// `RawValue`): it finds the structure (strings, objects, arrays, where a value ends) without
/// checking it. Every method either moves forward or returns `None`, so nothing loops; byte
/// positions are only used through `str::get` / `slice::get`, so nothing panics. `None` means
/// the text is not what valid JSON has there (or ended early), and the whole scan gives no ids.
///
/// Nothing recurses: the params object is walked member by member, a `thread` / `turn` object
/// one level below it the same way, and every other value is skipped by a loop (containers by
/// counting their depth), however deeply it nests.
///
/// The steps run for every member (`key`, `string`, `id`, `skip_value`, with `Key::of` and
/// `quote_or_backslash`) are `#[inline(always)]`: inlined into the member loop, they take a
/// third off the time of a delta's params (`cargo bench -p codex-client-protocol --bench
/// route_raw`).
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor { text, pos: 0 }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// The next byte that is not JSON whitespace, without consuming it (the whitespace is).
    fn peek(&mut self) -> Option<u8> {
        let bytes = self.bytes();
        while let Some(&b) = bytes.get(self.pos) {
            if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(b);
            }
            self.pos += 1;
        }
        None
    }

    /// Consumes `byte`, the next one after whitespace, or fails.
    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.pos += 1)
    }

    /// The params object: records the id at each wanted place into `found`. Params that are
    /// not an object carry no ids. A repeated key overrides the earlier one, as in a
    /// `serde_json::Value` (the typed params reject repeated keys): every member is walked, and
    /// the last one read at a place is what stays.
    fn params(&mut self, want: u8, found: &mut Found<'a>) -> Option<()> {
        if self.peek()? != b'{' {
            return Some(());
        }
        self.members(|cursor, key| {
            match key {
                Key::Path(path) if want & path.bit() != 0 => {
                    found[path as usize] = if path.nested() {
                        cursor.nested_id()?
                    } else {
                        cursor.id()?
                    };
                }
                _ => cursor.skip_value()?,
            }
            Some(())
        })
    }

    /// Walks the members of the object that starts at the next byte: reads each key and calls
    /// `member` with it, positioned before the value, which `member` must consume. Ends after
    /// the closing `}`.
    fn members(&mut self, mut member: impl FnMut(&mut Self, Key) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.pos += 1;
            return Some(());
        }
        loop {
            let key = self.key()?;
            self.eat(b':')?;
            member(self, key)?;
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// A member's key. A key with escapes is the key it spells: unescaped first (allocating,
    /// which keys the app-server writes never need).
    #[inline(always)]
    fn key(&mut self) -> Option<Key> {
        self.peek()?;
        let start = self.pos;
        let escaped = self.string()?;
        let token = self.bytes().get(start..self.pos)?;
        Some(if escaped {
            Key::of(unescape(token)?.as_bytes())
        } else {
            // Without its quotes (the token has both).
            Key::of(token.get(1..token.len() - 1)?)
        })
    }

    /// The value at an id place: the string (borrowed when it has no escapes, unescaped into an
    /// owned one otherwise); any other value is skipped and gives `None`.
    #[inline(always)]
    fn id(&mut self) -> Option<Id<'a>> {
        if self.peek()? != b'"' {
            self.skip_value()?;
            return Some(None);
        }
        let start = self.pos;
        let escaped = self.string()?;
        Some(Some(if escaped {
            Cow::Owned(unescape(self.bytes().get(start..self.pos)?)?)
        } else {
            // Without its quotes (the token has both).
            Cow::Borrowed(self.text.get(start + 1..self.pos - 1)?)
        }))
    }

    /// The value of `thread` / `turn`: when it is an object, the id at its `id` key (the last
    /// one if repeated; `None` without one); any other value is skipped and gives `None`.
    fn nested_id(&mut self) -> Option<Id<'a>> {
        if self.peek()? != b'{' {
            self.skip_value()?;
            return Some(None);
        }
        let mut id = None;
        self.members(|cursor, key| {
            match key {
                Key::Id => id = cursor.id()?,
                _ => cursor.skip_value()?,
            }
            Some(())
        })?;
        Some(id)
    }

    /// Skips the string whose opening `"` is at the position (callers have peeked past
    /// whitespace), to after its closing quote, the first `"` not escaped by a backslash (its
    /// token, quotes included, is the text in between); returns whether it has escapes.
    #[inline(always)]
    fn string(&mut self) -> Option<bool> {
        let bytes = self.bytes();
        let start = self.pos;
        if bytes.get(start) != Some(&b'"') {
            return None;
        }
        let mut end = start + 1;
        let mut escaped = false;
        loop {
            end += quote_or_backslash(bytes.get(end..)?)?;
            if bytes.get(end) == Some(&b'"') {
                break;
            }
            // A backslash and the byte it escapes (a `\uXXXX` escape's hex digits are neither
            // quotes nor backslashes, so the search goes on over them).
            escaped = true;
            end += 2;
        }
        self.pos = end + 1;
        Some(escaped)
    }

    /// Skips the value that starts at the next byte, whatever it is.
    #[inline(always)]
    fn skip_value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' | b'[' => self.skip_container(),
            _ => self.skip_scalar(),
        }
    }

    /// Skips the object or array whose opening bracket is at the position: counts the depth of
    /// the brackets, jumping over strings (which may hold brackets), until it is back to zero.
    fn skip_container(&mut self) -> Option<()> {
        let bytes = self.bytes();
        let mut depth = 0usize;
        loop {
            let rest = bytes.get(self.pos..)?;
            self.pos += rest
                .iter()
                .position(|&b| matches!(b, b'"' | b'{' | b'[' | b'}' | b']'))?;
            match bytes.get(self.pos)? {
                b'"' => {
                    self.string()?;
                    continue;
                }
                b'{' | b'[' => depth += 1,
                // Valid JSON closes only what it opened, and the first byte opened something.
                _ => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        self.pos += 1;
                        return Some(());
                    }
                }
            }
            self.pos += 1;
        }
    }

    /// Skips a number, `true`, `false` or `null`: up to the `,`, `}` or `]` (or whitespace)
    /// that ends it.
    fn skip_scalar(&mut self) -> Option<()> {
        let rest = self.bytes().get(self.pos..)?;
        self.pos += rest
            .iter()
            .position(|&b| matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
            .unwrap_or(rest.len());
        Some(())
    }
}

/// The index of the first `"` or `\` in `bytes`. Eight bytes at a time, as `memchr` does: in
/// a `u64` of eight bytes, `(x - 0x01..01) & !x & 0x80..80` sets the high bit of the lowest
/// byte of `x` that is zero (and maybe of higher ones, never of lower ones), so the lowest set
/// bit of that, with `x` the word XOR the byte searched, is the first match.
#[inline(always)]
fn quote_or_backslash(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const QUOTES: u64 = u64::from_ne_bytes([b'"'; 8]);
    const BACKSLASHES: u64 = u64::from_ne_bytes([b'\\'; 8]);
    let zero_bytes = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let (words, tail) = bytes.as_chunks::<8>();
    for (i, word) in words.iter().enumerate() {
        // Little-endian: the first byte is the lowest.
        let word = u64::from_le_bytes(*word);
        let found = zero_bytes(word ^ QUOTES) | zero_bytes(word ^ BACKSLASHES);
        if found != 0 {
            return Some(i * 8 + found.trailing_zeros() as usize / 8);
        }
    }
    let at = tail.iter().position(|&b| b == b'"' || b == b'\\')?;
    Some(words.len() * 8 + at)
}

/// The contents of a string token (quotes included) with escapes, unescaped: serde_json
/// decodes that token alone. `None` if it cannot, e.g. a lone surrogate `\ud800`, which JSON
/// text may hold but a Rust string cannot (decoding fails there too).
fn unescape(token: &[u8]) -> Option<String> {
    serde_json::from_slice(token).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every place wanted.
    const ALL: u8 = 0b1_1111;

    /// The scanner trusts its text to be valid JSON (a `RawValue`'s), but on any other text it
    /// still ends, without panicking: every prefix of a params text, and the text with each
    /// byte replaced by each byte that means something to JSON, or removed.
    #[test]
    fn scan_ends_without_panicking_on_invalid_text() {
        let text = r#" { "threadId" : "a\"b\\" , "x":[{"y":"}]"},-1.5e+5,true,null,[]], "\u0074urn":{"id":"U","z":{}} , "turnId":"V" } "#;
        let found = scan(text, ALL);
        assert_eq!(found[IdPath::ThreadId as usize].as_deref(), Some("a\"b\\"));
        assert_eq!(found[IdPath::TurnDotId as usize].as_deref(), Some("U"));
        assert_eq!(found[IdPath::TurnId as usize].as_deref(), Some("V"));
        for end in 0..text.len() {
            let _ = scan(&text[..end], ALL);
        }
        for i in 0..text.len() {
            let mut removed = text.as_bytes().to_vec();
            removed.remove(i);
            let _ = scan(std::str::from_utf8(&removed).unwrap(), ALL);
            for &b in b"{}[]\",:\\ 0etu" {
                let mut replaced = text.as_bytes().to_vec();
                replaced[i] = b;
                let _ = scan(std::str::from_utf8(&replaced).unwrap(), ALL);
            }
        }
        for text in [
            "",
            " ",
            "{",
            "}",
            "\"",
            "{\"",
            "{\"\\",
            "[",
            "]]]",
            "{\"id\":}",
            "{,}",
            "{\"turn\":{",
        ] {
            assert_eq!(scan(text, ALL), Found::default(), "{text}");
        }
    }

    proptest::proptest! {
        /// Any text at all (mostly JSON's own characters): the scan ends, without panicking.
        #[test]
        fn scan_ends_without_panicking_on_any_text(
            text in "[{}\\[\\]\",:\\\\ \n0-9a-zA-Z.+-]{0,64}|.{0,64}",
            want in 0..32u8,
        ) {
            let _ = scan(&text, want);
            let _ = scan(&format!("{{\"threadId\":\"T\",\"turn\":{text}"), want);
        }
    }
}
