//! The status bar: the active connection's state in words and colour, plus counts and rate.

use std::time::{Duration, Instant};

use egui::{Color32, RichText, Ui};

use super::action::Action;
use super::tab::ConnectionTab;
use super::widgets;
use crate::engine::{ConnectError, ConnectionState, ErrorKind};
use crate::model::units;
use crate::profiles::Profile;

/// The words and colour for a connection state.
pub fn describe(tab: &ConnectionTab, ui: &Ui) -> (String, Color32) {
    let p = &tab.profile;
    match tab.state() {
        ConnectionState::Connecting => (
            format!("Connecting to {}:{}…", p.host, p.port),
            ui.visuals().warn_fg_color,
        ),
        ConnectionState::Connected {
            version,
            session_present,
            negotiation,
            ..
        } => {
            let mut extras = vec![match negotiation {
                Some(why) => format!("{} — {why}", version.label()),
                None => version.label().to_owned(),
            }];
            if p.transport != crate::profiles::profile::TransportKind::Tcp {
                extras.push(p.transport.label().to_owned());
            }
            if *session_present {
                extras.push("session resumed".into());
            }
            (
                format!("Connected to {}:{} ({})", p.host, p.port, extras.join(", ")),
                widgets::ok_color(ui),
            )
        }
        ConnectionState::Reconnecting {
            attempt,
            next_in,
            last_error,
            ..
        } => {
            let left = next_in.saturating_sub(tab.state_since().elapsed());
            let when = if left.is_zero() {
                "trying now".to_owned()
            } else {
                format!("next in {} s", left.as_secs_f32().ceil() as u64)
            };
            (
                format!(
                    "Reconnecting — attempt {}, {when} ({})",
                    p.reconnect.attempt_label(*attempt),
                    last_error
                ),
                ui.visuals().warn_fg_color,
            )
        }
        ConnectionState::Disconnected => ("Disconnected".into(), ui.visuals().weak_text_color()),
        ConnectionState::Failed { reason } => (
            format!("Failed: {}", failure_words(p, reason)),
            ui.visuals().error_fg_color,
        ),
    }
}

/// What to check after the broker refused the credentials (or their absence): the user name
/// that was sent and where to change it. `None` for other failures.
pub fn credentials_hint(profile: &Profile, kind: ErrorKind) -> Option<String> {
    let user = profile.username.as_deref().filter(|u| !u.is_empty());
    let where_ = "under Authentication in the connection's settings";
    match (kind, user) {
        (ErrorKind::BadCredentials, Some(user)) => Some(format!(
            "check the password of user “{user}” (and the user name) {where_}"
        )),
        (ErrorKind::BadCredentials, None) => Some(format!("no user name was sent: set one {where_}")),
        (ErrorKind::NotAuthorized, Some(user)) => Some(format!(
            "check that user “{user}” may connect, and the password, {where_}"
        )),
        (ErrorKind::NotAuthorized, None) => Some(format!(
            "this broker may need a user name and password: set them {where_}"
        )),
        _ => None,
    }
}

/// Why a connection failed, with [`credentials_hint`] when the login was refused.
pub fn failure_words(profile: &Profile, reason: &ConnectError) -> String {
    match credentials_hint(profile, reason.kind) {
        Some(hint) => format!("{reason} — {hint}"),
        None => reason.to_string(),
    }
}

/// A small filled circle in `color` (the state light).
pub fn dot(ui: &mut Ui, color: Color32) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
    ui.painter().circle_filled(rect.center(), 4.5, color);
}

/// Draws the status bar for the active tab (or a hint when nothing is open), with "Retry now"
/// during a reconnect wait.
pub fn status_bar_ui(ui: &mut Ui, tab: Option<&mut ConnectionTab>, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        let Some(tab) = tab else {
            ui.label(RichText::new("Not connected — choose a connection and press Connect.").weak());
            return;
        };
        let (text, color) = describe(tab, ui);
        dot(ui, color);
        ui.label(RichText::new(text).color(color));
        if matches!(tab.state(), ConnectionState::Reconnecting { .. }) {
            if ui
                .small_button("Retry now")
                .on_hover_text("Try to connect again at once instead of waiting")
                .clicked()
            {
                actions.push(Action::RetryNow(tab.id));
            }
            // Keep the countdown true.
            ui.ctx().request_repaint_after(Duration::from_millis(250));
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let rate = tab.rate.rate(Instant::now());
            ui.label(format!("{} received", widgets::count(tab.tree.total_messages())));
            ui.separator();
            ui.label(format!("{rate:.0} msg/s"));
            ui.separator();
            ui.label(format!(
                "{} topics",
                widgets::count(u64::from(tab.tree.topic_count()))
            ));
            ui.separator();
            let limits = tab.tree.limits();
            let history = format!(
                "history {} of {}",
                units::bytes(tab.tree.history_bytes() as u64),
                units::bytes(limits.history_budget as u64)
            );
            if tab.tree.history_evicted() > 0 {
                ui.label(RichText::new(format!("{history} · trimmed")).color(ui.visuals().warn_fg_color))
                    .on_hover_text(format!(
                        "{} older messages were dropped from history to stay within the budget; \
                         the latest message of every topic is always kept. Settings changes the budget.",
                        widgets::count(tab.tree.history_evicted())
                    ));
            } else {
                ui.label(history).on_hover_text(
                    "Memory used by message history (the latest message of every topic is kept apart)",
                );
            }
            if rate > 0.0 {
                ui.ctx().request_repaint_after(Duration::from_millis(500));
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_login_names_the_user_and_where_to_fix_it() {
        let mut p = Profile::default();
        let hint = |p: &Profile, kind| credentials_hint(p, kind).unwrap_or_default();
        assert!(hint(&p, ErrorKind::BadCredentials).starts_with("no user name was sent"));
        assert!(hint(&p, ErrorKind::NotAuthorized).contains("may need a user name and password"));
        p.username = Some("alice".into());
        p.password = Some("secret-pw".into());
        let bad = hint(&p, ErrorKind::BadCredentials);
        assert!(bad.contains("“alice”") && bad.contains("Authentication"), "{bad}");
        assert!(!bad.contains("secret-pw"), "never the password itself");
        assert_eq!(credentials_hint(&p, ErrorKind::Timeout), None);
    }
}
