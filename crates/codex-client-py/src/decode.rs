//! `NotificationDecoder`: a stream's raw events made into the Python package's values
//! (`codex_client.models.Notification` holding the method's generated pydantic model) without
//! leaving Rust for the hot ones.
//!
//! Most of a turn's traffic is deltas whose models are flat: every field a required `str` or
//! `int` under its wire alias, extra keys ignored, no validators. The Python package finds those
//! models by inspecting them (`_routing._flat_models`, never a hand-written list) and hands
//! them here; for them the params text is read once with serde and the instance is built the
//! way pydantic's `model_construct` builds one (its `__dict__` in field order, its fields set,
//! no extra, no private state), which for such a model is exactly what `model_validate_json`
//! returns. Anything that does not fit — a key missing, a value that is not a string, another
//! method, a gap — goes to the package's own decoder (`_routing.decode_notification`), so the
//! two paths can only differ in speed (the Python tests compare them on every flat model).

use std::borrow::Cow;
use std::collections::HashMap;

use codex_client::core::RawEvent;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFrozenSet, PyString, PyType};
use serde::de::{DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, Visitor};

/// A JSON string, borrowed from the line when it has no escapes.
#[derive(serde::Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// A flat field's value as the line has it.
enum FlatValue<'a> {
    Str(Cow<'a, str>),
    Int(i64),
}

/// Reads a flat model's fields out of a params object: each field's value by its wire key (a
/// string for a `str` field, an integer for an `int` one), other keys skipped whatever they hold
/// (pydantic ignores them too). An error when the params are not an object, a value is not of
/// its field's JSON type (a float or a numeric string for an `int`: pydantic's lax rules are
/// the fallback's to apply), or a field is missing.
struct FlatSeed<'m> {
    fields: &'m [FlatField],
}

impl<'de> DeserializeSeed<'de> for FlatSeed<'_> {
    type Value = Vec<FlatValue<'de>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FlatSeed<'_> {
    type Value = Vec<FlatValue<'de>>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object of the model's fields")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut values: Vec<Option<FlatValue<'de>>> = std::iter::repeat_with(|| None)
            .take(self.fields.len())
            .collect();
        while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
            match self.fields.iter().position(|field| field.wire == key) {
                Some(at) => {
                    values[at] = Some(match self.fields[at].kind {
                        FieldKind::Str => FlatValue::Str(map.next_value::<Text<'de>>()?.0),
                        FieldKind::Int => FlatValue::Int(map.next_value::<i64>()?),
                    })
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        values
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| A::Error::custom("a field is missing"))
    }
}

fn flat_values<'p>(fields: &[FlatField], params: &'p str) -> Option<Vec<FlatValue<'p>>> {
    let mut deserializer = serde_json::Deserializer::from_str(params);
    let values = FlatSeed { fields }.deserialize(&mut deserializer).ok()?;
    deserializer.end().ok()?;
    Some(values)
}

/// What the previous events of a batch left to reuse: a turn's deltas are one method after
/// another (the model is found once, not hashed per event) and repeat their thread, turn and
/// item ids, which are then one Python string shared, not one per event (Python strings are
/// immutable).
#[derive(Default)]
struct BatchMemo {
    /// The flat model of the previous event, by its index in the decoder's `models`.
    last_model: Option<usize>,
    /// The previous string of each flat field, by the field's `slot`.
    last: Vec<Option<Py<PyString>>>,
}

impl BatchMemo {
    fn string<'py>(
        &mut self,
        py: Python<'py>,
        field: &FlatField,
        value: &str,
    ) -> Bound<'py, PyString> {
        /// Values longer than this (message text) are not kept.
        const KEPT_UP_TO: usize = 128;
        if let Some(Some(previous)) = self.last.get(field.slot) {
            let previous = previous.bind(py);
            if previous.to_str().is_ok_and(|text| text == value) {
                return previous.clone();
            }
        }
        let string = PyString::new(py, value);
        if value.len() <= KEPT_UP_TO {
            if self.last.len() <= field.slot {
                self.last.resize_with(field.slot + 1, || None);
            }
            self.last[field.slot] = Some(string.clone().unbind());
        }
        string
    }
}

/// The type of a flat field.
#[derive(Clone, Copy)]
enum FieldKind {
    Str,
    Int,
}

/// One field of a flat model: its key on the wire, its attribute name and its type.
struct FlatField {
    wire: String,
    name: Py<PyString>,
    kind: FieldKind,
    /// This field's place among all the decoder's flat fields (for [`BatchMemo`]).
    slot: usize,
}

/// A model whose every field is a required string or integer.
struct FlatModel {
    method_text: String,
    method: Py<PyString>,
    class: Py<PyType>,
    fields: Vec<FlatField>,
    /// The field names, which every instance's `__pydantic_fields_set__` is a copy of.
    field_names: Py<PyFrozenSet>,
}

/// The attribute names the construction sets, interned once.
struct Names {
    dict: Py<PyString>,
    fields_set: Py<PyString>,
    extra: Py<PyString>,
    private: Py<PyString>,
    method: Py<PyString>,
    payload: Py<PyString>,
}

/// A flat model as Python describes it: `(method, model, [(wire_key, field_name, "str" |
/// "int"), ...])`.
type FlatSpec<'py> = (String, Bound<'py, PyType>, Vec<(String, String, String)>);

/// Turns a stream's raw events into `Notification` values.
#[pyclass(module = "codex_client._native", frozen)]
pub(crate) struct NotificationDecoder {
    notification: Py<PyType>,
    fallback: Py<PyAny>,
    /// The flat models, and where each method's is.
    models: Vec<FlatModel>,
    by_method: HashMap<String, usize>,
    names: Names,
}

#[pymethods]
impl NotificationDecoder {
    /// `notification`: the `Notification` class (a slots dataclass of `method`, `payload`);
    /// `fallback(method | None, params_json | count)`: the package's decoder, for every event
    /// the fast path does not take; `flat`: `(method, model, [(wire_key, field_name, kind),
    /// ...])` for the models whose fields are all required `str` or `int` (`kind` is `"str"`
    /// or `"int"`), fields in definition order.
    #[new]
    fn new(
        py: Python<'_>,
        notification: Bound<'_, PyType>,
        fallback: Bound<'_, PyAny>,
        flat: Vec<FlatSpec<'_>>,
    ) -> PyResult<Self> {
        let (mut models, mut by_method) = (Vec::new(), HashMap::new());
        // Each field's slot: its place among the fields of all the models before it and its own.
        let mut first_slot = 0;
        for (method, class, fields) in flat {
            let fields = fields
                .into_iter()
                .enumerate()
                .map(|(at, (wire, name, kind))| {
                    let kind = match kind.as_str() {
                        "str" => FieldKind::Str,
                        "int" => FieldKind::Int,
                        other => {
                            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                                "field `{name}` of `{method}`: kind `{other}` is not str or int"
                            )));
                        }
                    };
                    Ok(FlatField {
                        wire,
                        name: PyString::intern(py, &name).unbind(),
                        kind,
                        slot: first_slot + at,
                    })
                })
                .collect::<PyResult<Vec<_>>>()?;
            first_slot += fields.len();
            let field_names = PyFrozenSet::new(py, fields.iter().map(|f| f.name.bind(py)))?;
            let model = FlatModel {
                method_text: method.clone(),
                method: PyString::intern(py, &method).unbind(),
                class: class.unbind(),
                fields,
                field_names: field_names.unbind(),
            };
            by_method.insert(method, models.len());
            models.push(model);
        }
        let intern = |name: &str| PyString::intern(py, name).unbind();
        Ok(Self {
            notification: notification.unbind(),
            fallback: fallback.unbind(),
            models,
            by_method,
            names: Names {
                dict: intern("__dict__"),
                fields_set: intern("__pydantic_fields_set__"),
                extra: intern("__pydantic_extra__"),
                private: intern("__pydantic_private__"),
                method: intern("method"),
                payload: intern("payload"),
            },
        })
    }

    /// The methods decoded without the fallback, sorted.
    #[getter]
    fn flat_methods(&self) -> Vec<String> {
        let mut methods: Vec<String> = self.by_method.keys().cloned().collect();
        methods.sort();
        methods
    }

    /// `(method, params_json)` pairs as the `NotificationBatch` a stream would hand over for
    /// them (for tests and tools): decoded one at a time as it is iterated.
    fn decode_batch(slf: &Bound<'_, Self>, events: Vec<(String, String)>) -> NotificationBatch {
        NotificationBatch {
            events: Pending::Pairs(events.into_iter()),
            decoder: slf.clone().unbind(),
            memo: BatchMemo::default(),
        }
    }

    /// Decodes one notification the way a stream does (for tests and tools).
    fn decode<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        params: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.notification_of(py, method, params, &mut BatchMemo::default())
    }
}

/// One batch of a stream, made into `Notification`s one at a time as Python iterates it: the
/// batch holds the server's lines (not Python objects), so a consumer holds one decoded event
/// at a time, not a batch of them (less memory, and nothing for the cycle collector to walk
/// while 64 threads each hold a batch). An event that fails to decode raises at its place; the
/// events after it are still there for the next `next()`.
#[pyclass(module = "codex_client._native")]
pub(crate) struct NotificationBatch {
    events: Pending,
    decoder: Py<NotificationDecoder>,
    memo: BatchMemo,
}

/// The events of a batch not handed out yet.
enum Pending {
    /// A stream's.
    Raw(std::vec::IntoIter<RawEvent>),
    /// `(method, params_json)` pairs given by Python (`NotificationDecoder.decode_batch`).
    Pairs(std::vec::IntoIter<(String, String)>),
}

impl Pending {
    fn len(&self) -> usize {
        match self {
            Self::Raw(events) => events.len(),
            Self::Pairs(events) => events.len(),
        }
    }
}

impl NotificationBatch {
    pub(crate) fn new(events: Vec<RawEvent>, decoder: Py<NotificationDecoder>) -> Self {
        Self {
            events: Pending::Raw(events.into_iter()),
            decoder,
            memo: BatchMemo::default(),
        }
    }
}

#[pymethods]
impl NotificationBatch {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// The next event as a `Notification`; `StopIteration` after the last.
    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let decoder = self.decoder.get();
        let memo = &mut self.memo;
        match &mut self.events {
            Pending::Raw(events) => match events.next() {
                Some(event) => decoder.event(py, &event, memo).map(Some),
                None => Ok(None),
            },
            Pending::Pairs(events) => match events.next() {
                Some((method, params)) => decoder
                    .notification_of(py, &method, &params, memo)
                    .map(Some),
                None => Ok(None),
            },
        }
    }

    /// How many events are left.
    fn __len__(&self) -> usize {
        self.events.len()
    }
}

impl NotificationDecoder {
    /// One event of a batch (a notification or a gap) as its `Notification`.
    fn event<'py>(
        &self,
        py: Python<'py>,
        event: &RawEvent,
        memo: &mut BatchMemo,
    ) -> PyResult<Bound<'py, PyAny>> {
        match event {
            RawEvent::Notification(raw) => {
                let params = raw.params().unwrap_or("{}");
                self.notification_of(py, raw.method(), params, memo)
            }
            RawEvent::Lagged(count) => self.fallback.bind(py).call1((py.None(), *count)),
            other => Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
                "codex-client: a stream handed over an event it should not have: {other:?}"
            ))),
        }
    }

    /// The flat model of `method`, if it has one: the previous event's when the method is the
    /// same (a turn's deltas), else looked up.
    fn flat_model(&self, method: &str, memo: &mut BatchMemo) -> Option<&FlatModel> {
        if let Some(at) = memo.last_model
            && let Some(model) = self.models.get(at)
            && model.method_text == method
        {
            return Some(model);
        }
        let at = *self.by_method.get(method)?;
        memo.last_model = Some(at);
        self.models.get(at)
    }

    fn notification_of<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        params: &str,
        memo: &mut BatchMemo,
    ) -> PyResult<Bound<'py, PyAny>> {
        if let Some(model) = self.flat_model(method, memo)
            && let Some(payload) = self.construct(py, model, params, memo)?
        {
            return self.wrap(py, model.method.bind(py).as_any(), &payload);
        }
        self.fallback.bind(py).call1((method, params))
    }

    /// `model` built from `params` as pydantic's `model_construct` would, or `None` when the
    /// params are not an object holding every field with its JSON type (the fallback decides
    /// then).
    fn construct<'py>(
        &self,
        py: Python<'py>,
        model: &FlatModel,
        params: &str,
        memo: &mut BatchMemo,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let Some(values) = flat_values(&model.fields, params) else {
            return Ok(None);
        };
        let dict = PyDict::new(py);
        for (field, value) in model.fields.iter().zip(&values) {
            match value {
                FlatValue::Str(text) => {
                    dict.set_item(field.name.bind(py), memo.string(py, field, text))?
                }
                FlatValue::Int(n) => dict.set_item(field.name.bind(py), n)?,
            }
        }
        let fields_set = set_copy(model.field_names.bind(py))?;
        let instance = allocate(model.class.bind(py))?;
        let names = &self.names;
        set_slot(&instance, &names.dict, dict.as_any())?;
        set_slot(&instance, &names.fields_set, fields_set.as_any())?;
        set_slot(&instance, &names.extra, &py.None().into_bound(py))?;
        set_slot(&instance, &names.private, &py.None().into_bound(py))?;
        Ok(Some(instance))
    }

    /// `Notification(method, payload)`, its slots set directly.
    fn wrap<'py>(
        &self,
        py: Python<'py>,
        method: &Bound<'py, PyAny>,
        payload: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let notification = allocate(self.notification.bind(py))?;
        set_slot(&notification, &self.names.method, method)?;
        set_slot(&notification, &self.names.payload, payload)?;
        Ok(notification)
    }
}

/// `object.__new__(class)`: an instance with nothing set, made by the class's allocator (what
/// `object.__new__` does for these classes, which define no `__new__` of their own, without
/// building an argument tuple per call).
fn allocate<'py>(class: &Bound<'py, PyType>) -> PyResult<Bound<'py, PyAny>> {
    // SAFETY: `class` is a live type object; `PyType_GenericNew` ignores its argument tuple and
    // keywords (null here) and returns a new reference, or null with an exception set.
    unsafe {
        let object = pyo3::ffi::PyType_GenericNew(
            class.as_type_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
        Bound::from_owned_ptr_or_err(class.py(), object)
    }
}

/// `set(names)`: a new set of the frozen set's members, copied with their hashes (no
/// iteration through Python, no rehash).
fn set_copy<'py>(names: &Bound<'py, PyFrozenSet>) -> PyResult<Bound<'py, PyAny>> {
    // SAFETY: `names` is a live frozen set; `PySet_New` returns a new reference, or null with
    // an exception set.
    unsafe {
        let set = pyo3::ffi::PySet_New(names.as_ptr());
        Bound::from_owned_ptr_or_err(names.py(), set)
    }
}

/// `object.__setattr__(target, name, value)`: past the class's own `__setattr__` (pydantic's
/// validates assignments; construction must not), as `model_construct` does.
fn set_slot(
    target: &Bound<'_, PyAny>,
    name: &Py<PyString>,
    value: &Bound<'_, PyAny>,
) -> PyResult<()> {
    // SAFETY: the three pointers are live objects owned by bound references for the call;
    // `PyObject_GenericSetAttr` takes no ownership and reports failure with -1 and an
    // exception set, which `PyErr::fetch` takes.
    let status = unsafe {
        pyo3::ffi::PyObject_GenericSetAttr(target.as_ptr(), name.as_ptr(), value.as_ptr())
    };
    if status == 0 {
        Ok(())
    } else {
        Err(PyErr::fetch(target.py()))
    }
}
