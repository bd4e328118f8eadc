//! The presentation's menus: the redaction rules, the subtree shown as tiles, and each tile's
//! settings (field, unit, range) and unpinning. They edit a copy of the profile's
//! [`Presentation`], saved at the end of the frame when it changed.

use egui::{RichText, Ui};

use super::PresentState;
use crate::model::present::{Presentation, Tile};
use crate::model::redact::{MASK, Rule};
use crate::ui::i18n::tr;
use crate::ui::widgets;

/// "🔒 Redaction": on/off, the rules with a ✖ each, and a field to add one.
pub fn redaction_menu_ui(ui: &mut Ui, state: &mut PresentState, draft: &mut Presentation, profile: &str) {
    let label = if draft.redact && !draft.redaction.is_empty() {
        tr!("present_menus.redaction_on", n = draft.redaction.len()).into_owned()
    } else {
        tr!("present_menus.redaction").into_owned()
    };
    sticky_menu(ui, label, |ui| {
        ui.set_min_width(420.0);
        ui.checkbox(&mut draft.redact, tr!("present_menus.hide_matches", mask = MASK))
            .on_hover_text(tr!("present_menus.everywhere"));
        ui.label(
            RichText::new(tr!("present_menus.saved_with", profile = profile))
                .weak()
                .small(),
        );
        ui.separator();
        let mut remove = None;
        for (i, rule) in draft.redaction.iter().enumerate() {
            ui.horizontal(|ui| {
                if widgets::icon_button(ui, "✖", &tr!("present_menus.remove_rule", rule = rule.text()))
                    .clicked()
                {
                    remove = Some(i);
                }
                let kind = match rule {
                    Rule::Level(_) => "level",
                    Rule::Topic(_) => "topic",
                    Rule::Field(_) => "field",
                };
                ui.label(RichText::new(kind).weak());
                ui.label(RichText::new(rule.text()).monospace());
            });
        }
        if let Some(i) = remove {
            draft.redaction.remove(i);
        }
        if draft.redaction.is_empty() {
            ui.label(RichText::new(tr!("present_menus.no_rules")).weak());
        }
        ui.horizontal(|ui| {
            let name = ui.label(tr!("present_menus.new_rule"));
            let field = ui
                .add(
                    egui::TextEdit::singleline(&mut state.rule_input)
                        .hint_text("site/+/#, level 2, serial, customer.name")
                        .desired_width(280.0),
                )
                .labelled_by(name.id);
            let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui.button(tr!("present_menus.add")).clicked() || entered {
                match Rule::parse(&state.rule_input) {
                    Ok(rule) => {
                        if !draft.redaction.contains(&rule) {
                            draft.redaction.push(rule);
                        }
                        state.rule_input.clear();
                        state.rule_error = None;
                    }
                    Err(why) => state.rule_error = Some(why),
                }
            }
        });
        if let Some(why) = &state.rule_error {
            widgets::error(ui, why.clone());
        }
        ui.label(RichText::new(tr!("present_menus.rules_help")).weak().small());
    });
}

/// tr!("present_menus.tiles"): the subtree whose topics are tiles too, and how many are pinned.
pub fn tiles_menu_ui(ui: &mut Ui, draft: &mut Presentation) {
    sticky_menu(ui, tr!("present_menus.tiles"), |ui| {
        ui.set_min_width(380.0);
        ui.label(tr!("present_menus.pinned", n = draft.pinned.len()));
        ui.horizontal(|ui| {
            let name = ui.label(tr!("present_menus.also_below"));
            ui.add(
                egui::TextEdit::singleline(&mut draft.subtree)
                    .hint_text("plant/site-berlin/line1")
                    .desired_width(220.0),
            )
            .labelled_by(name.id);
        });
        ui.label(
            RichText::new(tr!("present_menus.at_most", n = super::MAX_SUBTREE_TILES))
                .weak()
                .small(),
        );
        if !draft.pinned.is_empty() && ui.button(tr!("present_menus.unpin_all")).clicked() {
            draft.pinned.clear();
        }
    });
}

/// A tile's "⚙" menu: its field, unit and range once pinned, pin or unpin.
pub fn tile_menu_ui(ui: &mut Ui, draft: &mut Presentation, tile: &Tile, shown_topic: &str) {
    let name = tr!("present_menus.tile_settings", topic = shown_topic).into_owned();
    let response = sticky_menu(ui, RichText::new("⚙").weak(), |ui| {
        ui.set_min_width(320.0);
        ui.label(RichText::new(shown_topic).monospace().strong());
        let Some(index) = draft.pinned.iter().position(|t| t.topic == tile.topic) else {
            ui.label(RichText::new(tr!("present_menus.below_subtree")).weak());
            if ui.button(tr!("present_menus.pin")).clicked() {
                draft.pinned.push(Tile::new(tile.topic.clone()));
            }
            return;
        };
        let pinned = &mut draft.pinned[index];
        egui::Grid::new("tile-settings").num_columns(2).show(ui, |ui| {
            text_row(
                ui,
                &tr!("present_menus.field"),
                &mut pinned.field,
                &tr!("present_menus.field_hint"),
            );
            text_row(
                ui,
                &tr!("present_menus.unit"),
                &mut pinned.unit,
                &tr!("present_menus.unit_hint"),
            );
            bound_row(ui, &tr!("present_menus.gauge_from"), &mut pinned.min);
            bound_row(ui, &tr!("present_menus.gauge_to"), &mut pinned.max);
        });
        ui.label(RichText::new(tr!("present_menus.gauge_note")).weak().small());
        if ui.button(tr!("present_menus.unpin")).clicked() {
            draft.pinned.remove(index);
            ui.close();
        }
    });
    widgets::named(response.on_hover_text(&name), &name);
}

/// A menu that stays open while its fields are edited and buttons pressed (a refused rule's
/// reason stays in view); a click outside or Esc closes it.
fn sticky_menu<'a>(
    ui: &mut Ui,
    label: impl egui::IntoAtoms<'a>,
    content: impl FnOnce(&mut Ui),
) -> egui::Response {
    use egui::containers::menu::{MenuButton, MenuConfig};
    MenuButton::new(label)
        .config(MenuConfig::new().close_behavior(egui::PopupCloseBehavior::CloseOnClickOutside))
        .ui(ui, content)
        .0
}

fn text_row(ui: &mut Ui, label: &str, value: &mut String, hint: &str) {
    let name = ui.label(label);
    ui.add(
        egui::TextEdit::singleline(value)
            .hint_text(hint)
            .desired_width(200.0),
    )
    .labelled_by(name.id);
    ui.end_row();
}

/// A gauge bound: a checkbox to fix it, then its value.
fn bound_row(ui: &mut Ui, label: &str, bound: &mut Option<f64>) {
    let mut fixed = bound.is_some();
    ui.checkbox(&mut fixed, label);
    match (fixed, bound.as_mut()) {
        (true, Some(v)) => {
            ui.add(egui::DragValue::new(v).speed(0.5));
        }
        (true, None) => *bound = Some(0.0),
        (false, _) => {
            *bound = None;
            ui.label(RichText::new(tr!("present_menus.found")).weak());
        }
    }
    ui.end_row();
}
