//! Where the domain's state machines meet SQL: a transition is written as `SET status = <target> WHERE
//! status IN (<sources>)`, both taken from the machine, so a racing writer that moved the row first makes
//! the update touch nothing.

use domain::Machine;

/// `'a', 'b'`: stored state names for `status IN (…)`. They come from our own enums, never from input.
pub(crate) fn sql_list<M: Machine>(states: impl IntoIterator<Item = M>) -> String {
    states
        .into_iter()
        .map(|s| format!("'{}'", Into::<&'static str>::into(s)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The state `event` leads to and, for `status IN (…)`, the states it may leave.
pub(crate) fn transition<M: Machine>(event: M::Event) -> (&'static str, String) {
    let target = M::target(event).expect("each event of a machine leads somewhere");
    (target.into(), sql_list(M::sources(event)))
}
