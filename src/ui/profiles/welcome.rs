//! What the centre of the window shows while no connection is open: the way to a live tree
//! in one click (the Local sandbox: an embedded broker with demo traffic, no network), or,
//! with no saved connection at all, the way to make one.

use egui::{RichText, Ui};

use super::ProfilesPanel;
use crate::profiles::store;
use crate::ui::action::Action;
use crate::ui::i18n::tr;

/// Width of the welcome text, so that its lines stay short on a wide window.
const WELCOME_WIDTH: f32 = 520.0;

/// Draws the welcome in the middle of the tree's place.
pub fn welcome_ui(ui: &mut Ui, panel: &mut ProfilesPanel, actions: &mut Vec<Action>) {
    ui.add_space((ui.available_height() * 0.18).min(140.0));
    ui.vertical_centered(|ui| {
        ui.set_max_width(WELCOME_WIDTH);
        ui.label(RichText::new(tr!("welcome.title")).heading().strong());
        ui.add_space(6.0);
        let sandbox = panel.file.profiles.iter().position(|p| p.sandbox.is_some());
        if panel.file.profiles.is_empty() {
            ui.label(tr!("welcome.none_saved"));
        } else {
            ui.label(tr!("welcome.pick"));
        }
        ui.add_space(14.0);
        ui.label(RichText::new(tr!("welcome.new_to_canopy")).weak());
        ui.add_space(6.0);
        match sandbox {
            Some(i) => {
                let start = egui::Button::new(RichText::new(tr!("welcome.start_sandbox")).strong())
                    .min_size(egui::vec2(240.0, 34.0));
                if ui.add(start).clicked()
                    && let Some(p) = panel.file.profiles.get(i).cloned()
                {
                    panel.selected = Some(i);
                    panel.editor_open = false;
                    actions.push(Action::Connect(Box::new(p)));
                }
            }
            None => {
                if ui.button(tr!("welcome.add_sandbox")).clicked()
                    && let Some(p) = store::first_run_profiles()
                        .into_iter()
                        .find(|p| p.sandbox.is_some())
                {
                    panel.add(p);
                    panel.editor_open = false;
                }
            }
        }
        if panel.file.profiles.is_empty() {
            ui.add_space(14.0);
            if ui.button(tr!("welcome.new_connection")).clicked() {
                panel.add(crate::profiles::Profile::default());
            }
        }
    });
}
