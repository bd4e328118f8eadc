//! The publish panel's saved templates: load one into the editor, send it (several times,
//! paced, with its variables filled in), save the editor as one, delete one. Templates belong
//! to the saved profile of the active connection.

use egui::{RichText, Ui};

use super::action::Action;
use super::publish::PublishState;
use super::widgets;
use crate::model::template::{Template, VARIABLES};
use crate::profiles::profile::ProfileId;
use crate::ui::i18n::tr;

/// Draws the templates section. `profile` is the saved profile of the active connection with
/// its templates (`None` when it has none saved: a sandbox offline tab, a deleted profile).
pub fn templates_ui(
    ui: &mut Ui,
    state: &mut PublishState,
    profile: Option<(&ProfileId, &[Template])>,
    connected: bool,
    actions: &mut Vec<Action>,
) {
    let templates = profile.map_or(&[][..], |(_, t)| t);
    egui::CollapsingHeader::new(tr!("templates.title", n = templates.len()))
        .id_salt("publish-templates")
        .show(ui, |ui| {
            for t in templates {
                ui.horizontal(|ui| {
                    ui.label(RichText::new(&t.name).strong());
                    ui.label(RichText::new(&t.topic).monospace().weak());
                    if t.count > 1 {
                        ui.label(
                            RichText::new(tr!("templates.every", count = t.count, interval = t.interval_ms))
                                .weak(),
                        );
                    }
                    if ui
                        .small_button(tr!("templates.load"))
                        .on_hover_text(tr!("templates.load_hover"))
                        .clicked()
                    {
                        state.load_template(t);
                        state.template_name.clone_from(&t.name);
                        state.repeat_count = t.count;
                        state.repeat_interval_ms = t.interval_ms;
                    }
                    let send = ui.add_enabled(connected, egui::Button::new(tr!("templates.send")).small());
                    if send
                        .on_hover_text(tr!("templates.send_hover"))
                        .on_disabled_hover_text(tr!("templates.connect_first"))
                        .clicked()
                    {
                        actions.push(Action::SendTemplate(Box::new(t.clone())));
                    }
                    if let Some((id, _)) = profile
                        && widgets::icon_button(ui, "🗑", &tr!("templates.delete", name = t.name)).clicked()
                    {
                        actions.push(Action::DeleteTemplate {
                            profile: id.clone(),
                            name: t.name.clone(),
                        });
                    }
                });
            }
            ui.separator();
            ui.horizontal(|ui| {
                let l = ui.label(tr!("templates.name"));
                ui.add(egui::TextEdit::singleline(&mut state.template_name).desired_width(120.0))
                    .labelled_by(l.id);
                let l = ui.label(tr!("templates.messages"));
                ui.add(
                    egui::DragValue::new(&mut state.repeat_count)
                        .range(1..=1_000_000)
                        .suffix("×"),
                )
                .labelled_by(l.id);
                let l = ui.label(tr!("templates.interval"));
                ui.add(
                    egui::DragValue::new(&mut state.repeat_interval_ms)
                        .range(0..=86_400_000)
                        .suffix(" ms"),
                )
                .labelled_by(l.id);
                let name = state.template_name.trim().to_owned();
                let can = profile.is_some() && !name.is_empty();
                let save = ui.add_enabled(can, egui::Button::new(tr!("templates.save")));
                let save = if profile.is_none() {
                    save.on_disabled_hover_text(tr!("templates.save_unsaved"))
                } else {
                    save.on_disabled_hover_text(tr!("templates.save_name"))
                };
                if save.clicked()
                    && let Some((id, _)) = profile
                {
                    let template =
                        state.to_template(name, state.repeat_count.max(1), state.repeat_interval_ms);
                    actions.push(Action::SaveTemplate {
                        profile: id.clone(),
                        template: Box::new(template),
                    });
                }
            });
            ui.label(
                RichText::new(tr!("templates.variables", variables = VARIABLES))
                    .weak()
                    .small(),
            );
        });
}
