//! What a user sends to a turn: [`Input`], a list of [`InputItem`]s (text, image URL, local
//! image, skill, mention), and the conversions that let a plain `&str` be an input.
//!
//! Every item maps to one variant of the wire's `UserInput` union ([`UserInput`]); the raw wire
//! value is accepted too ([`InputItem::Raw`]) for variants this layer does not name.

use crate::proto::{
    ImageUserInput, ImageUserInputSource, LocalImageUserInput, MentionUserInput, SkillUserInput,
    TextUserInput, UserInput,
};
use std::path::PathBuf;

/// One piece of user input.
///
/// ```
/// use codex_client::InputItem;
/// let items = [
///     InputItem::text("What is in this picture?"),
///     InputItem::image_url("https://example.com/cat.png"),
///     InputItem::local_image("/tmp/screenshot.png"),
/// ];
/// # let _ = items;
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum InputItem {
    /// Text.
    Text(String),
    /// An image by URL (`https://...` or a `data:` URL).
    ImageUrl(String),
    /// An image file on the machine the app-server runs on.
    LocalImage(PathBuf),
    /// A skill, by name and path (`SKILL.md`).
    Skill {
        /// The skill's name.
        name: String,
        /// The skill's path.
        path: String,
    },
    /// A mention of a file or resource, by name and path.
    Mention {
        /// What the mention shows.
        name: String,
        /// What it points to.
        path: String,
    },
    /// A wire value, sent as is.
    Raw(UserInput),
}

impl InputItem {
    /// A text item.
    ///
    /// ```
    /// assert_eq!(codex_client::InputItem::text("hi"), "hi".into());
    /// ```
    pub fn text(text: impl Into<String>) -> Self {
        InputItem::Text(text.into())
    }

    /// An image by URL.
    ///
    /// ```
    /// let item = codex_client::InputItem::image_url("https://example.com/a.png");
    /// # let _ = item;
    /// ```
    pub fn image_url(url: impl Into<String>) -> Self {
        InputItem::ImageUrl(url.into())
    }

    /// A local image file.
    ///
    /// ```
    /// let item = codex_client::InputItem::local_image("/tmp/a.png");
    /// # let _ = item;
    /// ```
    pub fn local_image(path: impl Into<PathBuf>) -> Self {
        InputItem::LocalImage(path.into())
    }

    /// A skill.
    ///
    /// ```
    /// let item = codex_client::InputItem::skill("review", "/skills/review/SKILL.md");
    /// # let _ = item;
    /// ```
    pub fn skill(name: impl Into<String>, path: impl Into<String>) -> Self {
        InputItem::Skill {
            name: name.into(),
            path: path.into(),
        }
    }

    /// A mention.
    ///
    /// ```
    /// let item = codex_client::InputItem::mention("main.rs", "/repo/src/main.rs");
    /// # let _ = item;
    /// ```
    pub fn mention(name: impl Into<String>, path: impl Into<String>) -> Self {
        InputItem::Mention {
            name: name.into(),
            path: path.into(),
        }
    }

    /// The wire value.
    ///
    /// ```
    /// let wire = codex_client::InputItem::text("hi").to_wire();
    /// assert_eq!(serde_json::to_value(wire).unwrap(), serde_json::json!({"type": "text", "text": "hi"}));
    /// ```
    pub fn to_wire(&self) -> UserInput {
        match self {
            InputItem::Text(text) => UserInput::Text(TextUserInput {
                text: text.clone(),
                text_elements: Vec::new(),
            }),
            InputItem::ImageUrl(url) => UserInput::Image(ImageUserInput {
                detail: None,
                source: ImageUserInputSource::Url { url: url.clone() },
            }),
            InputItem::LocalImage(path) => UserInput::LocalImage(LocalImageUserInput {
                detail: None,
                path: path.to_string_lossy().into_owned(),
            }),
            InputItem::Skill { name, path } => UserInput::Skill(SkillUserInput {
                name: name.clone(),
                path: path.clone(),
            }),
            InputItem::Mention { name, path } => UserInput::Mention(MentionUserInput {
                name: name.clone(),
                path: path.clone(),
            }),
            InputItem::Raw(raw) => raw.clone(),
        }
    }
}

impl From<&str> for InputItem {
    fn from(text: &str) -> Self {
        InputItem::Text(text.to_owned())
    }
}

impl From<String> for InputItem {
    fn from(text: String) -> Self {
        InputItem::Text(text)
    }
}

impl From<UserInput> for InputItem {
    fn from(raw: UserInput) -> Self {
        InputItem::Raw(raw)
    }
}

/// The input of a turn (or a steer): one or more [`InputItem`]s, in order.
///
/// Anything that reads as input converts: `&str`, `String`, an `InputItem`, a `Vec` or array of
/// them.
///
/// ```
/// use codex_client::{Input, InputItem};
/// let a: Input = "Describe the image".into();
/// let b: Input = vec![InputItem::text("Describe"), InputItem::image_url("https://example.com/x.png")].into();
/// let c = Input::new().text("Describe").local_image("/tmp/x.png");
/// assert_eq!(a.items().len(), 1);
/// assert_eq!(b.items().len(), 2);
/// assert_eq!(c.items().len(), 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Input {
    items: Vec<InputItem>,
}

impl Input {
    /// An empty input (the server refuses an empty turn; add items).
    ///
    /// ```
    /// assert!(codex_client::Input::new().items().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an item.
    ///
    /// ```
    /// let input = codex_client::Input::new().item(codex_client::InputItem::mention("a", "/a"));
    /// # let _ = input;
    /// ```
    pub fn item(mut self, item: impl Into<InputItem>) -> Self {
        self.items.push(item.into());
        self
    }

    /// Appends text.
    ///
    /// ```
    /// let input = codex_client::Input::new().text("hi");
    /// # let _ = input;
    /// ```
    pub fn text(self, text: impl Into<String>) -> Self {
        self.item(InputItem::text(text))
    }

    /// Appends an image URL.
    ///
    /// ```
    /// let input = codex_client::Input::new().image_url("https://example.com/a.png");
    /// # let _ = input;
    /// ```
    pub fn image_url(self, url: impl Into<String>) -> Self {
        self.item(InputItem::image_url(url))
    }

    /// Appends a local image.
    ///
    /// ```
    /// let input = codex_client::Input::new().local_image("/tmp/a.png");
    /// # let _ = input;
    /// ```
    pub fn local_image(self, path: impl Into<PathBuf>) -> Self {
        self.item(InputItem::local_image(path))
    }

    /// The items, in order.
    ///
    /// ```
    /// assert_eq!(codex_client::Input::from("x").items()[0], "x".into());
    /// ```
    pub fn items(&self) -> &[InputItem] {
        &self.items
    }

    /// The wire values, in order.
    ///
    /// ```
    /// let wire = codex_client::Input::from("x").to_wire();
    /// assert_eq!(wire.len(), 1);
    /// ```
    pub fn to_wire(&self) -> Vec<UserInput> {
        self.items.iter().map(InputItem::to_wire).collect()
    }
}

impl<T: Into<InputItem>> From<T> for Input {
    fn from(item: T) -> Self {
        Input {
            items: vec![item.into()],
        }
    }
}

impl<T: Into<InputItem>> From<Vec<T>> for Input {
    fn from(items: Vec<T>) -> Self {
        Input {
            items: items.into_iter().map(Into::into).collect(),
        }
    }
}

impl<T: Into<InputItem>, const N: usize> From<[T; N]> for Input {
    fn from(items: [T; N]) -> Self {
        Input {
            items: items.into_iter().map(Into::into).collect(),
        }
    }
}

impl<T: Into<InputItem>> FromIterator<T> for Input {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Input {
            items: iter.into_iter().map(Into::into).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn wire(input: impl Into<Input>) -> serde_json::Value {
        serde_json::to_value(input.into().to_wire()).unwrap()
    }

    #[test]
    fn every_item_maps_to_its_user_input_variant() {
        assert_eq!(wire("hi"), json!([{"type": "text", "text": "hi"}]));
        assert_eq!(
            wire(String::from("hi")),
            json!([{"type": "text", "text": "hi"}])
        );
        assert_eq!(
            wire(InputItem::image_url("https://x/y.png")),
            json!([{"type": "image", "url": "https://x/y.png"}])
        );
        assert_eq!(
            wire(InputItem::local_image("/tmp/a.png")),
            json!([{"type": "localImage", "path": "/tmp/a.png"}])
        );
        assert_eq!(
            wire(InputItem::skill("s", "/s/SKILL.md")),
            json!([{"type": "skill", "name": "s", "path": "/s/SKILL.md"}])
        );
        assert_eq!(
            wire(InputItem::mention("m", "/m")),
            json!([{"type": "mention", "name": "m", "path": "/m"}])
        );
    }

    #[test]
    fn lists_keep_their_order() {
        let expected = json!([
            {"type": "text", "text": "a"},
            {"type": "image", "url": "u"},
            {"type": "text", "text": "b"},
        ]);
        assert_eq!(
            wire(vec![
                InputItem::text("a"),
                InputItem::image_url("u"),
                "b".into()
            ]),
            expected
        );
        assert_eq!(
            wire([
                InputItem::text("a"),
                InputItem::image_url("u"),
                InputItem::text("b")
            ]),
            expected
        );
        assert_eq!(
            wire(Input::new().text("a").image_url("u").text("b")),
            expected
        );
        assert_eq!(wire(["x", "y"]).as_array().unwrap().len(), 2);
        let collected: Input = ["p", "q"].into_iter().collect();
        assert_eq!(collected.items().len(), 2);
    }

    #[test]
    fn raw_wire_values_pass_through() {
        let raw: UserInput = serde_json::from_value(json!({"type": "futureKind", "x": 1})).unwrap();
        assert_eq!(wire(raw), json!([{"type": "futureKind", "x": 1}]));
    }
}
