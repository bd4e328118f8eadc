//! The subscriptions of an open connection: what was asked, what the broker granted or
//! refused per filter, and adding or removing subscriptions while connected (with the MQTT 5
//! options).

use egui::{RichText, Ui};

use super::action::Action;
use super::tab::{ConnectionTab, SubStatus};
use super::widgets;
use crate::model::topic::validate_filter;
use crate::ui::i18n::tr;

/// Draws the subscriptions section of the tree panel.
pub fn subscriptions_ui(ui: &mut Ui, tab: &mut ConnectionTab, actions: &mut Vec<Action>) {
    let v5 = tab.speaks_v5();
    let refused = tab
        .subscriptions
        .iter()
        .filter(|s| matches!(s.status, SubStatus::Refused(_)))
        .count();
    let title = if refused > 0 {
        tr!(
            "subs.title_refused",
            n = tab.subscriptions.len(),
            refused = refused
        )
    } else {
        tr!("subs.title", n = tab.subscriptions.len())
    };
    egui::CollapsingHeader::new(title)
        .id_salt(("subscriptions", tab.id))
        .default_open(refused > 0)
        .show(ui, |ui| {
            egui::Grid::new(("subs", tab.id))
                .striped(true)
                .num_columns(4)
                .show(ui, |ui| {
                    for s in &tab.subscriptions {
                        ui.label(RichText::new(&s.sub.filter).monospace());
                        let mut options = format!("QoS {}", s.sub.qos);
                        if v5 {
                            if s.sub.no_local {
                                options.push_str(" · no local");
                            }
                            if s.sub.retain_as_published {
                                options.push_str(" · RAP");
                            }
                            options.push_str(&format!(" · {}", s.sub.retain_handling.label()));
                            if let Some(id) = s.identifier {
                                options.push_str(&format!(" · id {id}"));
                            }
                        }
                        ui.label(RichText::new(options).small().weak());
                        match &s.status {
                            SubStatus::Pending => {
                                ui.label(RichText::new(tr!("subs.waiting")).weak());
                            }
                            SubStatus::Granted(q) => {
                                ui.label(
                                    RichText::new(tr!("subs.granted", qos = q)).color(widgets::ok_color(ui)),
                                );
                            }
                            SubStatus::Refused(why) => {
                                ui.label(
                                    RichText::new(tr!("subs.refused", why = why))
                                        .color(ui.visuals().error_fg_color),
                                );
                            }
                        }
                        if ui
                            .small_button(tr!("subs.unsubscribe"))
                            .on_hover_text(tr!("subs.unsubscribe_from", filter = s.sub.filter))
                            .clicked()
                        {
                            actions.push(Action::Unsubscribe {
                                tab: tab.id,
                                filter: s.sub.filter.clone(),
                            });
                        }
                        ui.end_row();
                    }
                });
            ui.separator();
            let (open, tab_id) = (tab.open(), tab.id);
            let form = &mut tab.new_subscription;
            ui.horizontal(|ui| {
                let l = ui.label(tr!("subs.subscribe_to"));
                let r = ui
                    .add(
                        egui::TextEdit::singleline(&mut form.sub.filter)
                            .hint_text(tr!("subs.filter_hint"))
                            .desired_width(180.0),
                    )
                    .labelled_by(l.id);
                widgets::qos_selector(ui, ("new-sub-qos", tab_id), &mut form.sub.qos);
                let valid = validate_filter(&form.sub.filter);
                let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                let add = ui.add_enabled(valid.is_ok() && open, egui::Button::new(tr!("subs.subscribe")));
                if (add.clicked() || (enter && valid.is_ok())) && open {
                    let id = (v5 && form.identifier > 0).then_some(form.identifier);
                    actions.push(Action::Subscribe {
                        tab: tab_id,
                        subscription: form.sub.clone(),
                        identifier: id,
                    });
                    form.sub.filter.clear();
                }
                if let (Err(e), false) = (valid, form.sub.filter.is_empty()) {
                    widgets::error(ui, e.to_string());
                }
            });
            if v5 {
                ui.horizontal(|ui| {
                    ui.checkbox(&mut form.sub.no_local, tr!("subs.no_local"))
                        .on_hover_text(tr!("subs.no_local_hover"));
                    ui.checkbox(&mut form.sub.retain_as_published, tr!("subs.rap"));
                    widgets::retain_handling_selector(
                        ui,
                        ("new-sub-rh", tab_id),
                        &mut form.sub.retain_handling,
                    );
                    ui.label(tr!("subs.sub_id"));
                    ui.add(egui::DragValue::new(&mut form.identifier).range(0..=268_435_455))
                        .on_hover_text(tr!("subs.sub_id_hover"));
                });
            }
        });
}
