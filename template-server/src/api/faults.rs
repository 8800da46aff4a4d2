//! Faults injected on demand, so clients can be tested against a misbehaving service.

use std::sync::Mutex;
use std::time::Duration;

/// What to do instead of (or around) answering a request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultAction {
    /// Answer with this status and an `Error` body, without handling the request.
    Status {
        /// HTTP status.
        code: u16,
        /// `Retry-After` seconds.
        retry_after: Option<u64>,
        /// The body's `message`.
        message: String,
    },
    /// Close the connection without answering, before handling the request.
    DropConnection,
    /// Handle the request (its effects happen), then close the connection without answering:
    /// the client cannot know whether it worked.
    DropAfterHandling,
    /// Wait this long, then handle the request normally.
    Delay(Duration),
}

/// One rule: which requests, how many times, what to do.
#[derive(Clone, Debug)]
pub(super) struct FaultRule {
    /// Only this method (`None`: any).
    pub(super) method: Option<String>,
    /// Only paths containing this text.
    pub(super) path_contains: String,
    /// How many matching requests pass untouched before the rule applies.
    pub(super) after: u32,
    /// How many matching requests are affected (then the rule is spent).
    pub(super) times: u32,
    /// What to do.
    pub(super) action: FaultAction,
}

/// A build that must fail at a step (matched by template name).
#[derive(Clone, Debug)]
pub(super) struct BuildFailure {
    /// Template name (without tag).
    pub(super) template_name: String,
    /// Step as the API names it: `base`, `1`.., `finalize`.
    pub(super) step: String,
    /// The reason's message.
    pub(super) message: String,
}

/// The faults a server will inject, set by tests through
/// [`ServerHandle::faults`](super::ServerHandle::faults).
///
/// ```
/// use sandbox_template_server::api::{FaultAction, FaultPlan};
/// let plan = FaultPlan::default();
/// plan.add(Some("POST"), "/v3/templates", 1, FaultAction::Status { code: 429, retry_after: Some(1), message: "slow down".into() });
/// assert_eq!(plan.pending(), 1);
/// ```
#[derive(Debug, Default)]
pub struct FaultPlan {
    rules: Mutex<Vec<FaultRule>>,
    failures: Mutex<Vec<BuildFailure>>,
}

impl FaultPlan {
    /// Adds a rule: the next `times` requests with `method` whose path contains `path_contains`
    /// get `action`.
    pub fn add(&self, method: Option<&str>, path_contains: &str, times: u32, action: FaultAction) {
        self.add_after(method, path_contains, 0, times, action);
    }

    /// Like [`FaultPlan::add`], but the first `after` matching requests pass untouched.
    pub fn add_after(&self, method: Option<&str>, path_contains: &str, after: u32, times: u32, action: FaultAction) {
        let rule = FaultRule {
            method: method.map(str::to_owned),
            path_contains: path_contains.to_owned(),
            after,
            times,
            action,
        };
        self.rules.lock().unwrap_or_else(|p| p.into_inner()).push(rule);
    }

    /// Builds of `template_name` fail at `step` with `message`.
    pub fn fail_build(&self, template_name: &str, step: &str, message: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).push(BuildFailure {
            template_name: template_name.to_owned(),
            step: step.to_owned(),
            message: message.to_owned(),
        });
    }

    /// Removes every rule and failure.
    pub fn clear(&self) {
        self.rules.lock().unwrap_or_else(|p| p.into_inner()).clear();
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// How many injections are left.
    pub fn pending(&self) -> u32 {
        self.rules.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|r| r.times).sum()
    }

    /// Takes one injection for this request, if a rule matches.
    pub(super) fn take(&self, method: &str, path: &str) -> Option<FaultAction> {
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        let mut chosen = None;
        for rule in rules.iter_mut() {
            let matches = rule.times > 0
                && rule.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
                && path.contains(&rule.path_contains);
            if !matches {
                continue;
            }
            // Every matching rule counts the request; the first one due fires.
            if rule.after > 0 {
                rule.after -= 1;
            } else if chosen.is_none() {
                rule.times -= 1;
                chosen = Some(rule.action.clone());
            }
        }
        chosen
    }

    /// The failure planned for builds of `template_name`, if any.
    pub(super) fn build_failure(&self, template_name: &str) -> Option<BuildFailure> {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|f| f.template_name == template_name)
            .cloned()
    }
}
