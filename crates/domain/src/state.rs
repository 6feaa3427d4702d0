//! What every stored state machine shares: a stored name per state (the text in the database and the
//! API), a Chinese label for people, and a pure transition function.
//!
//! Each machine's states are declared with [`states!`]: an enum deriving `strum`'s `IntoStaticStr` and
//! `EnumString` (stored names, snake_case), `EnumMessage` (the label as `#[strum(message)]`), `VariantArray`
//! and `EnumIs`, plus the conversions the store and views need; [`Machine`] says which events move which
//! state where.

use std::fmt;

use thiserror::Error;

/// A stored state name that no state of its machine has: the database or a caller holds a value this
/// build does not know.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown {kind} state {value:?}")]
pub struct UnknownState {
    pub kind: &'static str,
    pub value: String,
}

/// An event that the current state does not allow (e.g. paying a cancelled order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("{kind} in state {from} cannot {event}")]
pub struct TransitionRefused {
    pub kind: &'static str,
    pub from: &'static str,
    pub event: &'static str,
    /// The state it is in, as a person reads it.
    pub from_zh: &'static str,
}

impl TransitionRefused {
    /// The refusal in Chinese: what the record is and the state that does not allow the step.
    pub fn message_zh(&self) -> String {
        format!(
            "{}当前为“{}”，不能进行此操作",
            kind_zh(self.kind),
            self.from_zh
        )
    }
}

/// What a machine's records are called in Chinese.
fn kind_zh(kind: &str) -> &'static str {
    match kind {
        "order" => "订单",
        "lesson" => "课时",
        "refund" => "退费申请",
        "complaint" => "投诉",
        "instruction" => "指令",
        "warning" => "预警",
        "plate" => "公示牌",
        "registry" => "机构登记",
        "supervised account" => "资金监管账户",
        "filing" => "报备",
        "spot check" => "抽查",
        "ticket" => "工单",
        _ => "该记录",
    }
}

/// A state machine: its states are `Self`, its events `Self::Event`.
pub trait Machine:
    Copy + Eq + fmt::Debug + strum::VariantArray + strum::EnumMessage + Into<&'static str> + 'static
{
    type Event: Copy + Into<&'static str>;
    /// The machine's name in messages and audit entries (`order`, `lesson`…).
    const KIND: &'static str;

    /// The state `event` leads to from `self`, or `None` where the event is not allowed.
    fn next(self, event: Self::Event) -> Option<Self>;

    /// [`Machine::next`] as a result naming what was refused.
    fn apply(self, event: Self::Event) -> Result<Self, TransitionRefused> {
        self.next(event).ok_or(TransitionRefused {
            kind: Self::KIND,
            from: self.into(),
            event: event.into(),
            from_zh: self.get_message().unwrap_or_else(|| self.into()),
        })
    }

    /// Every state from which `event` is allowed: what a conditional `UPDATE … WHERE status IN (…)`
    /// must require so that a racing writer cannot apply the event twice.
    fn sources(event: Self::Event) -> Vec<Self> {
        Self::VARIANTS
            .iter()
            .copied()
            .filter(|s| s.next(event).is_some())
            .collect()
    }

    /// The state `event` leads to. In every machine here an event leads to one state from wherever it is
    /// allowed (a test checks it), so a store can apply it as `SET status = target WHERE status IN
    /// (sources)`.
    fn target(event: Self::Event) -> Option<Self> {
        Self::VARIANTS.iter().find_map(|s| s.next(event))
    }
}

/// Declares a machine's states: `pub enum Name("kind") { #[strum(message = "中文")] Variant, … }`.
macro_rules! states {
    ($(#[$meta:meta])* pub enum $name:ident($kind:literal) { $($body:tt)* }) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
            strum::EnumString, strum::IntoStaticStr, strum::EnumMessage, strum::VariantArray, strum::EnumIs,
        )]
        #[serde(rename_all = "snake_case")]
        #[strum(serialize_all = "snake_case")]
        pub enum $name { $($body)* }
        $crate::state::stored_state!($name, $kind);
    };
}
pub(crate) use states;

/// Adds to a state enum deriving `IntoStaticStr`, `EnumString` and `EnumMessage`: `as_str`, `label_zh`,
/// `parse`, `Display` and `TryFrom<String>` (what the store decodes a column with).
macro_rules! stored_state {
    ($ty:ty, $kind:literal) => {
        impl $ty {
            /// The stored name (database column, API value).
            pub fn as_str(self) -> &'static str {
                self.into()
            }

            /// What a person reads.
            pub fn label_zh(self) -> &'static str {
                strum::EnumMessage::get_message(&self).unwrap_or_else(|| self.as_str())
            }

            pub fn parse(value: &str) -> Result<Self, $crate::state::UnknownState> {
                value.parse().map_err(|_| $crate::state::UnknownState {
                    kind: $kind,
                    value: value.to_owned(),
                })
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl TryFrom<String> for $ty {
            type Error = $crate::state::UnknownState;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }
    };
}
pub(crate) use stored_state;

#[cfg(test)]
pub(crate) mod testing {
    use super::Machine;

    /// Every state's stored name parses back to itself and has a label; each event leads to one state.
    pub fn round_trips<M: Machine + TryFrom<String>>(
        label: impl Fn(M) -> &'static str,
        events: &[M::Event],
    ) {
        for &e in events {
            let target = M::target(e).expect("every event is allowed somewhere");
            assert!(M::sources(e).iter().all(|s| s.next(e) == Some(target)));
        }
        for &s in M::VARIANTS {
            let name: &'static str = s.into();
            assert!(M::try_from(name.to_owned()).ok() == Some(s), "{name}");
            assert!(
                !label(s).is_empty() && label(s) != name,
                "{name} has no Chinese label"
            );
        }
        assert!(M::try_from("Paid ".to_owned()).is_err());
    }
}
