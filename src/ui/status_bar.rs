//! The status bar: the active connection's state in words and colour, plus counts and rate.

use std::time::{Duration, Instant};

use egui::{Color32, RichText, Ui};

use super::action::Action;
use super::tab::ConnectionTab;
use super::widgets;
use crate::engine::{ConnectError, ConnectionState, ErrorKind};
use crate::model::units;
use crate::profiles::Profile;
use crate::ui::i18n::tr;

/// The words and colour for a connection state.
pub fn describe(tab: &ConnectionTab, ui: &Ui) -> (String, Color32) {
    let p = &tab.profile;
    match tab.state() {
        ConnectionState::Connecting => (
            tr!("status.connecting", host = p.host, port = p.port).into_owned(),
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
                extras.push(tr!("status.session_resumed").into_owned());
            }
            (
                tr!(
                    "status.connected",
                    host = p.host,
                    port = p.port,
                    details = extras.join(", ")
                )
                .into_owned(),
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
                tr!("status.trying_now")
            } else {
                tr!("status.next_in", secs = left.as_secs_f32().ceil() as u64)
            };
            (
                tr!(
                    "status.reconnecting",
                    attempt = p.reconnect.attempt_label(*attempt),
                    when = when,
                    error = last_error
                )
                .into_owned(),
                ui.visuals().warn_fg_color,
            )
        }
        ConnectionState::Disconnected => (
            tr!("status.disconnected").into_owned(),
            ui.visuals().weak_text_color(),
        ),
        ConnectionState::Failed { reason } => (
            tr!("status.failed", reason = failure_words(p, reason)).into_owned(),
            ui.visuals().error_fg_color,
        ),
    }
}

/// What to check after the broker refused the credentials (or their absence): the user name
/// that was sent and where to change it. `None` for other failures.
pub fn credentials_hint(profile: &Profile, kind: ErrorKind) -> Option<String> {
    let user = profile.username.as_deref().filter(|u| !u.is_empty());
    let hint = match (kind, user) {
        (ErrorKind::BadCredentials, Some(user)) => tr!("status.check_password", user = user),
        (ErrorKind::BadCredentials, None) => tr!("status.no_user"),
        (ErrorKind::NotAuthorized, Some(user)) => tr!("status.check_user_may_connect", user = user),
        (ErrorKind::NotAuthorized, None) => tr!("status.may_need_credentials"),
        _ => return None,
    };
    Some(hint.into_owned())
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

/// Draws the status bar for the active tab (or a hint when nothing is open), with tr!("status.retry_now")
/// during a reconnect wait.
pub fn status_bar_ui(ui: &mut Ui, tab: Option<&mut ConnectionTab>, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        let Some(tab) = tab else {
            ui.label(RichText::new(tr!("status.not_connected")).weak());
            return;
        };
        let (text, color) = describe(tab, ui);
        dot(ui, color);
        ui.label(RichText::new(text).color(color));
        if matches!(tab.state(), ConnectionState::Reconnecting { .. }) {
            if ui
                .small_button(tr!("status.retry_now"))
                .on_hover_text(tr!("status.retry_now_hover"))
                .clicked()
            {
                actions.push(Action::RetryNow(tab.id));
            }
            // Keep the countdown true.
            ui.ctx().request_repaint_after(Duration::from_millis(250));
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let rate = tab.rate.rate(Instant::now());
            ui.label(tr!(
                "status.received",
                n = widgets::count(tab.tree.total_messages())
            ));
            ui.separator();
            ui.label(tr!("status.rate", rate = format!("{rate:.0}")));
            ui.separator();
            ui.label(tr!(
                "status.topics",
                n = widgets::count(u64::from(tab.tree.topic_count()))
            ));
            ui.separator();
            let limits = tab.tree.limits();
            let history = tr!(
                "status.history",
                used = units::bytes(tab.tree.history_bytes() as u64),
                budget = units::bytes(limits.history_budget as u64)
            );
            if tab.tree.history_evicted() > 0 {
                ui.label(
                    RichText::new(tr!("status.trimmed", history = history)).color(ui.visuals().warn_fg_color),
                )
                .on_hover_text(tr!(
                    "status.trimmed_hover",
                    n = widgets::count(tab.tree.history_evicted())
                ));
            } else {
                ui.label(history).on_hover_text(tr!("status.history_hover"));
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
