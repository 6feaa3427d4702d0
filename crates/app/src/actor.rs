//! Who is acting. Resolved once per request by the web layer and passed to every use case; the
//! identity issue adds parents, staff, regulators, banks and integrators.

/// The party behind a command or query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// Anyone on the public website or API, not signed in.
    Public,
    /// The platform itself: seeding, workers, operator commands. `name` says which part.
    System { name: &'static str },
}

impl Actor {
    /// How the actor appears in the audit log, e.g. `system:demo`.
    pub fn audit_name(&self) -> String {
        match self {
            Actor::Public => "public".to_owned(),
            Actor::System { name } => format!("system:{name}"),
        }
    }
}
