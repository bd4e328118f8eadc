//! The profile editor: every field of the selected profile, grouped in collapsible sections,
//! in a sheet beside the list that the user opens (Edit, New, Duplicate) and closes (✖).

use std::collections::HashMap;
use std::path::PathBuf;

use egui::{RichText, Ui};

use super::{FileCheck, ProfilesPanel};
use crate::model::message::QoS;
use crate::profiles::profile::{
    LastWill, MqttVersion, PasswordStorage, ProfileId, SandboxSettings, Subscription, TransportKind,
    random_client_id,
};
use crate::ui::action::Action;
use crate::ui::action::FileTarget;
use crate::ui::i18n::tr;
use crate::ui::widgets;

fn file_row(
    ui: &mut Ui,
    label: &str,
    path: &mut Option<PathBuf>,
    target: FileTarget,
    profile: &ProfileId,
    checks: &mut HashMap<PathBuf, FileCheck>,
    actions: &mut Vec<Action>,
) -> bool {
    let mut changed = false;
    let l = ui.label(label);
    ui.horizontal(|ui| {
        let mut text = path.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
        let hint = if target == FileTarget::Ca {
            tr!("editor.hint_system_trust")
        } else {
            tr!("editor.hint_none")
        };
        let r = ui
            .add(
                egui::TextEdit::singleline(&mut text)
                    .hint_text(hint)
                    .desired_width(ui.available_width() - 90.0),
            )
            .labelled_by(l.id);
        if r.changed() {
            *path = if text.trim().is_empty() {
                None
            } else {
                Some(PathBuf::from(text.trim()))
            };
            changed = true;
        }
        if ui.button(tr!("editor.browse")).clicked() {
            actions.push(Action::Browse {
                profile: profile.clone(),
                target,
            });
        }
    });
    ui.end_row();
    if let Some(p) = path {
        match checks.get(p) {
            None => {
                checks.insert(p.clone(), FileCheck::Pending);
                actions.push(Action::CheckFile {
                    path: p.clone(),
                    target,
                });
            }
            Some(FileCheck::Problem(why)) => {
                ui.label("");
                widgets::error(ui, why.clone());
                ui.end_row();
            }
            Some(FileCheck::Ok | FileCheck::Pending) => {}
        }
    }
    changed
}

/// The port to show after the transport changes from `before` to `after`: the new
/// transport's default when the port was the old one's default (the user never chose it),
/// else the port the user typed (a broker on 36453 stays on 36453 when TLS is switched on).
fn port_after_transport_change(port: u16, before: TransportKind, after: TransportKind) -> u16 {
    if port == before.default_port() {
        after.default_port()
    } else {
        port
    }
}

/// The sandbox's address and MQTT version, read-only: what the embedded broker really uses
/// (a free port chosen when it starts, MQTT 3.1.1), whatever the profile's own fields say.
fn sandbox_address_ui(ui: &mut Ui) {
    ui.label(tr!("editor.address"));
    match crate::sandbox::running() {
        Some(ports) => ui.label(tr!("editor.sandbox_running", port = ports.v4)),
        None => ui
            .label(tr!("editor.sandbox_free_port"))
            .on_hover_text(tr!("editor.sandbox_starts")),
    };
    ui.end_row();
    ui.label(tr!("editor.mqtt_version"));
    ui.label(tr!("editor.sandbox_version"));
    ui.end_row();
}

/// The editor sheet of the selected profile: its name and a close button on top, the
/// sections below in their own scroll area. Closes itself when no profile is selected (the
/// profile was deleted).
pub fn editor_sheet_ui(ui: &mut Ui, panel: &mut ProfilesPanel, read_only: bool, actions: &mut Vec<Action>) {
    let Some(index) = panel.selected.filter(|i| *i < panel.file.profiles.len()) else {
        panel.editor_open = false;
        return;
    };
    ui.horizontal(|ui| {
        let name = panel.file.profiles[index].name.clone();
        let title = if name.is_empty() {
            tr!("editor.unnamed").into_owned()
        } else {
            name
        };
        // The ✖ keeps its place however long the name.
        let height = ui.spacing().interact_size.y;
        ui.allocate_ui(egui::vec2(ui.available_width() - 32.0, height), |ui| {
            ui.add(egui::Label::new(RichText::new(format!("✏ {title}")).heading()).truncate());
        });
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if widgets::icon_button(ui, "✖", &tr!("editor.close")).clicked() {
                panel.editor_open = false;
            }
        });
    });
    ui.label(RichText::new(tr!("editor.saved_as_you_type")).weak());
    if read_only {
        widgets::warning(ui, tr!("editor.read_only"));
    }
    ui.separator();
    egui::ScrollArea::vertical()
        .id_salt("profile-editor")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            if editor_ui(ui, panel, index, actions) {
                panel.dirty = true;
            }
        });
}

/// The editor; returns whether anything changed.
fn editor_ui(ui: &mut Ui, panel: &mut ProfilesPanel, index: usize, actions: &mut Vec<Action>) -> bool {
    let mut changed = false;
    let ProfilesPanel {
        file,
        url_input,
        url_error,
        checks,
        ..
    } = panel;
    let Some(p) = file.profiles.get_mut(index) else {
        return false;
    };
    let profile_id = p.id.clone();

    egui::CollapsingHeader::new(tr!("editor.broker"))
        .default_open(true)
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                let l = ui.label(tr!("editor.url"));
                ui.add(
                    egui::TextEdit::singleline(url_input)
                        .hint_text(tr!("editor.url_hint"))
                        .desired_width(ui.available_width() - 60.0),
                )
                .labelled_by(l.id);
                if ui.button(tr!("editor.apply")).clicked() {
                    match p.apply_url(url_input) {
                        Ok(()) => {
                            *url_error = None;
                            url_input.clear();
                            changed = true;
                        }
                        Err(e) => *url_error = Some(e.to_string()),
                    }
                }
            });
            if let Some(e) = url_error {
                widgets::error(ui, e.clone());
            }
            egui::Grid::new("broker").num_columns(2).show(ui, |ui| {
                changed |= widgets::text_field(ui, &tr!("editor.name"), &mut p.name).changed();
                changed |= widgets::text_field(ui, &tr!("editor.group"), &mut p.group).changed();
                ui.label(tr!("editor.broker"));
                let mut sandbox = p.sandbox.is_some();
                if ui
                    .checkbox(&mut sandbox, tr!("editor.sandbox"))
                    .on_hover_text(tr!("editor.sandbox_hover"))
                    .changed()
                {
                    p.sandbox = sandbox.then(SandboxSettings::default);
                    changed = true;
                }
                ui.end_row();
                if let Some(sb) = &mut p.sandbox {
                    sandbox_address_ui(ui);
                    ui.label(tr!("editor.demo_traffic"));
                    ui.horizontal(|ui| {
                        changed |= ui
                            .checkbox(&mut sb.demo_traffic, tr!("editor.demo_plant_home"))
                            .changed();
                        changed |= ui
                            .add(
                                egui::DragValue::new(&mut sb.rate)
                                    .range(1..=100_000)
                                    .suffix(tr!("editor.msg_per_s")),
                            )
                            .changed();
                    });
                    ui.end_row();
                    // Host, port, transport, version and proxy are the sandbox's own: shown
                    // above as they are, not as fields that would be ignored.
                    return;
                }
                changed |= widgets::text_field(ui, &tr!("editor.host"), &mut p.host).changed();
                changed |=
                    widgets::number_field(ui, &tr!("editor.port"), &mut p.port, 1..=65535, "").changed();
                ui.label(tr!("editor.transport"));
                ui.horizontal(|ui| {
                    for t in TransportKind::ALL {
                        let before = p.transport;
                        if ui.selectable_value(&mut p.transport, t, t.label()).changed() {
                            p.port = port_after_transport_change(p.port, before, t);
                            changed = true;
                        }
                    }
                });
                ui.end_row();
                if p.transport.is_websocket() {
                    changed |= widgets::text_field(ui, &tr!("editor.ws_path"), &mut p.ws_path).changed();
                }
                ui.label(tr!("editor.mqtt_version"));
                ui.horizontal(|ui| {
                    for version in MqttVersion::ALL {
                        let label = match version {
                            MqttVersion::Auto => tr!("editor.version_auto"),
                            other => other.short().into(),
                        };
                        changed |= ui
                            .selectable_value(&mut p.version, version, label)
                            .on_hover_text(match version {
                                MqttVersion::Auto => tr!("editor.version_auto_hover"),
                                _ => tr!("editor.version_only_hover"),
                            })
                            .changed();
                    }
                });
                ui.end_row();
                changed |= widgets::text_field(ui, &tr!("editor.proxy"), &mut p.proxy)
                    .on_hover_text(tr!("editor.proxy_hover"))
                    .changed();
                ui.end_row();
            });
        });
    egui::CollapsingHeader::new(tr!("editor.auth")).show(ui, |ui| {
        egui::Grid::new("auth").num_columns(2).show(ui, |ui| {
            changed |= widgets::optional_text_field(ui, &tr!("editor.username"), &mut p.username).changed();
            changed |= widgets::password_field(ui, &tr!("editor.password"), &mut p.password).changed();
            ui.label(tr!("editor.save_password"));
            egui::ComboBox::from_id_salt("password-storage")
                .selected_text(match p.password_storage {
                    PasswordStorage::Keyring => tr!("editor.pw_keyring"),
                    PasswordStorage::Ask => tr!("editor.pw_ask"),
                    PasswordStorage::File => tr!("editor.pw_file"),
                })
                .show_ui(ui, |ui| {
                    changed |= ui
                        .selectable_value(
                            &mut p.password_storage,
                            PasswordStorage::Keyring,
                            tr!("editor.pw_keyring"),
                        )
                        .changed();
                    changed |= ui
                        .selectable_value(
                            &mut p.password_storage,
                            PasswordStorage::Ask,
                            tr!("editor.pw_ask"),
                        )
                        .changed();
                    changed |= ui
                        .selectable_value(
                            &mut p.password_storage,
                            PasswordStorage::File,
                            tr!("editor.pw_file"),
                        )
                        .changed();
                });
            ui.end_row();
        });
        match p.password_storage {
            PasswordStorage::File if p.password.is_some() => {
                widgets::warning(ui, tr!("editor.pw_plain_warning"));
            }
            PasswordStorage::Ask if p.password.take().is_some() => {
                changed = true;
            }
            _ => {}
        }
    });
    // The sandbox speaks plain TCP on loopback: no TLS to configure.
    if p.sandbox.is_none() {
        egui::CollapsingHeader::new(tr!("editor.tls"))
            .default_open(p.transport.is_tls())
            .show(ui, |ui| {
                if !p.transport.is_tls() {
                    ui.label(RichText::new(tr!("editor.tls_used_with")).weak());
                }
                egui::Grid::new("tls").num_columns(2).show(ui, |ui| {
                    let files = [
                        (tr!("editor.ca_file"), &mut p.tls.ca_file, FileTarget::Ca),
                        (
                            tr!("editor.client_cert"),
                            &mut p.tls.client_cert_file,
                            FileTarget::ClientCert,
                        ),
                        (
                            tr!("editor.client_key"),
                            &mut p.tls.client_key_file,
                            FileTarget::ClientKey,
                        ),
                    ];
                    for (label, path, target) in files {
                        changed |= file_row(ui, &label, path, target, &profile_id, checks, actions);
                    }
                    let mut alpn = p.tls.alpn.join(", ");
                    if widgets::text_field(ui, "ALPN", &mut alpn).changed() {
                        p.tls.alpn = alpn
                            .split(',')
                            .map(|s| s.trim().to_owned())
                            .filter(|s| !s.is_empty())
                            .collect();
                        changed = true;
                    }
                    changed |=
                        widgets::optional_text_field(ui, &tr!("editor.server_name"), &mut p.tls.server_name)
                            .changed();
                });
                changed |= ui
                    .checkbox(&mut p.tls.skip_verification, tr!("editor.skip_verify"))
                    .changed();
                if p.tls.skip_verification {
                    widgets::warning(ui, tr!("editor.skip_verify_warning"));
                }
                changed |= crate::ui::timeline::key_log_ui(ui, &mut p.tls.key_log);
            });
    }
    // The sandbox speaks 3.1.1 whatever the profile says: no MQTT 5 options for it.
    let v5 = p.sandbox.is_none() && p.version.allows_v5();
    egui::CollapsingHeader::new(tr!("editor.session")).show(ui, |ui| {
        egui::Grid::new("session").num_columns(2).show(ui, |ui| {
            let l = ui.label(tr!("editor.client_id"));
            ui.horizontal(|ui| {
                changed |= ui
                    .add(egui::TextEdit::singleline(&mut p.client_id).desired_width(160.0))
                    .labelled_by(l.id)
                    .changed();
                if widgets::icon_button(ui, "🎲", &tr!("editor.random_client_id")).clicked() {
                    p.client_id = random_client_id();
                    changed = true;
                }
            });
            ui.end_row();
            changed |= widgets::number_field(
                ui,
                &tr!("editor.keep_alive"),
                &mut p.keep_alive_secs,
                5..=65535,
                " s",
            )
            .changed();
            ui.label(tr!("editor.clean_session"));
            changed |= ui
                .checkbox(&mut p.clean_session, tr!("editor.clean_session_check"))
                .changed();
            ui.end_row();
            if v5 {
                changed |= widgets::number_field(
                    ui,
                    &tr!("editor.session_expiry"),
                    &mut p.session_expiry_secs,
                    0..=u32::MAX,
                    " s",
                )
                .changed();
                ui.end_row();
                // What will really be sent, since 0 means "never" once the session is kept.
                ui.label("");
                ui.label(
                    egui::RichText::new(match p.effective_session_expiry() {
                        None => tr!("editor.expiry_none").into_owned(),
                        Some(u32::MAX) => tr!("editor.expiry_never").into_owned(),
                        Some(secs) => tr!("editor.expiry_secs", secs = secs).into_owned(),
                    })
                    .weak(),
                );
            }
        });
    });
    egui::CollapsingHeader::new(tr!("editor.will")).show(ui, |ui| {
        let mut enabled = p.last_will.is_some();
        if ui.checkbox(&mut enabled, tr!("editor.will_send")).changed() {
            p.last_will = enabled.then(LastWill::default);
            changed = true;
        }
        if let Some(will) = &mut p.last_will {
            egui::Grid::new("will").num_columns(2).show(ui, |ui| {
                changed |= widgets::text_field(ui, &tr!("editor.will_topic"), &mut will.topic).changed();
                changed |= widgets::text_field(ui, &tr!("editor.will_payload"), &mut will.payload).changed();
                ui.label(tr!("editor.will_qos"));
                ui.horizontal(|ui| {
                    changed |= widgets::qos_selector(ui, "will-qos", &mut will.qos);
                    changed |= ui.checkbox(&mut will.retain, tr!("editor.retain")).changed();
                });
                ui.end_row();
            });
        }
    });
    egui::CollapsingHeader::new(tr!("editor.subscriptions", n = p.subscriptions.len())).show(ui, |ui| {
        let mut remove = None;
        for (i, sub) in p.subscriptions.iter_mut().enumerate() {
            ui.horizontal(|ui| {
                let r = ui.add(
                    egui::TextEdit::singleline(&mut sub.filter)
                        .hint_text(tr!("editor.topic_filter"))
                        .desired_width(150.0),
                );
                changed |= r.changed();
                changed |= widgets::qos_selector(ui, ("sub-qos", i), &mut sub.qos);
                if widgets::icon_button(ui, "✖", &tr!("editor.remove_subscription")).clicked() {
                    remove = Some(i);
                }
            });
            if let Err(e) = crate::model::topic::validate_filter(&sub.filter) {
                widgets::error(ui, e.to_string());
            }
            if v5 {
                ui.horizontal(|ui| {
                    ui.add_space(12.0);
                    changed |= ui.checkbox(&mut sub.no_local, tr!("editor.no_local")).changed();
                    changed |= ui
                        .checkbox(&mut sub.retain_as_published, tr!("editor.retain_as_published"))
                        .changed();
                    changed |= widgets::retain_handling_selector(
                        ui,
                        ("retain-handling", i),
                        &mut sub.retain_handling,
                    );
                });
            }
        }
        if let Some(i) = remove {
            p.subscriptions.remove(i);
            changed = true;
        }
        if ui.small_button(tr!("editor.add_subscription")).clicked() {
            p.subscriptions.push(Subscription::new("#", QoS::AtMostOnce));
            changed = true;
        }
    });
    egui::CollapsingHeader::new(tr!("editor.reconnect")).show(ui, |ui| {
        let r = &mut p.reconnect;
        changed |= ui
            .checkbox(&mut r.enabled, tr!("editor.reconnect_enabled"))
            .changed();
        egui::Grid::new("reconnect").num_columns(2).show(ui, |ui| {
            changed |= widgets::number_field(
                ui,
                &tr!("editor.first_delay"),
                &mut r.first_delay_ms,
                0..=600_000,
                " ms",
            )
            .changed();
            changed |=
                widgets::number_field(ui, &tr!("editor.multiplier"), &mut r.multiplier, 1.0..=10.0, "×")
                    .changed();
            changed |= widgets::number_field(
                ui,
                &tr!("editor.max_delay"),
                &mut r.max_delay_ms,
                0..=3_600_000,
                " ms",
            )
            .changed();
            changed |= widgets::number_field(
                ui,
                &tr!("editor.max_attempts"),
                &mut r.max_attempts,
                0..=10_000,
                "",
            )
            .changed();
        });
        ui.label(RichText::new(tr!("editor.max_attempts_note")).weak());
    });
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_port_survives_a_transport_change_and_a_default_one_follows_it() {
        use TransportKind::{Tcp, Tls, Ws};
        assert_eq!(port_after_transport_change(36453, Tcp, Tls), 36453);
        assert_eq!(port_after_transport_change(1883, Tcp, Tls), 8883);
        assert_eq!(port_after_transport_change(8883, Tls, Ws), Ws.default_port());
        // 8883 is not TCP's default: typed by the user, kept.
        assert_eq!(port_after_transport_change(8883, Tcp, Ws), 8883);
    }
}
