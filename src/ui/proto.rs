//! The Schemas window: the active connection's `.proto` file or folder, whether it compiled,
//! and the topic patterns bound to its message types. Every change is an
//! [`Action::SetProto`] (saved in the profile, recompiled in the background when the path
//! changes); picking a file or folder is an [`Action::PickProto`].

use egui::{Context, RichText, Ui};

use super::action::Action;
use crate::model::proto::{Binding, ProtoSettings, SchemaState};
use crate::ui::i18n::tr;

/// The add-a-binding form, kept in egui's memory (it is only this window's).
#[derive(Debug, Clone, Default)]
struct NewBinding {
    pattern: String,
    message_type: String,
}

/// Draws the Schemas window for a connection's settings and schema while `open`.
pub fn schemas_ui(
    ctx: &Context,
    open: &mut bool,
    settings: &ProtoSettings,
    state: &SchemaState,
    actions: &mut Vec<Action>,
) {
    egui::Window::new(tr!("proto.title"))
        .id(egui::Id::unique("schemas-window"))
        .open(open)
        .default_size([560.0, 360.0])
        .resizable(true)
        .show(ctx, |ui| {
            ui.label(
                RichText::new(
                    "Payloads of topics bound to a message type are decoded with your .proto \
                     files (shown as JSON, charted, exported), and JSON published to them is \
                     encoded. The most specific pattern wins.",
                )
                .weak(),
            );
            ui.add_space(4.0);
            source_ui(ui, settings, state, actions);
            ui.separator();
            bindings_ui(ui, settings, state, actions);
        });
}

/// The file or folder, its buttons and whether it compiled.
fn source_ui(ui: &mut Ui, settings: &ProtoSettings, state: &SchemaState, actions: &mut Vec<Action>) {
    ui.horizontal_wrapped(|ui| {
        ui.label(tr!("proto.schema"));
        match &settings.path {
            Some(path) => ui.label(RichText::new(path.display().to_string()).monospace()),
            None => ui.label(RichText::new(tr!("proto.none")).weak()),
        };
    });
    ui.horizontal_wrapped(|ui| {
        if ui.button(tr!("proto.choose_file")).clicked() {
            actions.push(Action::PickProto { folder: false });
        }
        if ui.button(tr!("proto.choose_folder")).clicked() {
            actions.push(Action::PickProto { folder: true });
        }
        if settings.path.is_some() {
            if ui
                .button(tr!("proto.reload"))
                .on_hover_text(tr!("proto.reload_hover"))
                .clicked()
            {
                actions.push(Action::ReloadProto);
            }
            if ui
                .button(tr!("proto.remove"))
                .on_hover_text(tr!("proto.remove_hover"))
                .clicked()
            {
                let mut changed = settings.clone();
                changed.path = None;
                actions.push(Action::SetProto(Box::new(changed)));
            }
        }
    });
    match state {
        SchemaState::Off => {}
        SchemaState::Compiling => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(tr!("proto.compiling"));
            });
        }
        SchemaState::Ready(decoder) => {
            let schema = decoder.schema();
            super::widgets::success(
                ui,
                if schema.files == 1 {
                    tr!("proto.compiled_one", types = schema.message_names().len())
                } else {
                    tr!(
                        "proto.compiled",
                        files = schema.files,
                        types = schema.message_names().len()
                    )
                },
            );
            for (binding, e) in decoder.unknown_types() {
                super::widgets::error(ui, format!("{}: {e}", binding.pattern));
            }
        }
        SchemaState::Failed(e) => super::widgets::error(ui, e.clone()),
    }
}

/// The bindings, each removable, and the form that adds one.
fn bindings_ui(ui: &mut Ui, settings: &ProtoSettings, state: &SchemaState, actions: &mut Vec<Action>) {
    ui.label(RichText::new(tr!("proto.bindings")).strong());
    if settings.bindings.is_empty() {
        ui.label(RichText::new(tr!("proto.no_bindings")).weak());
    }
    egui::Grid::new("proto-bindings")
        .num_columns(3)
        .striped(true)
        .show(ui, |ui| {
            for (i, b) in settings.bindings.iter().enumerate() {
                ui.label(RichText::new(&b.pattern).monospace());
                ui.label(RichText::new(&b.message_type).monospace());
                if super::widgets::icon_button(ui, "🗑", &tr!("proto.remove_binding", pattern = b.pattern))
                    .clicked()
                {
                    let mut changed = settings.clone();
                    changed.bindings.remove(i);
                    actions.push(Action::SetProto(Box::new(changed)));
                }
                ui.end_row();
            }
        });
    ui.add_space(4.0);
    let id = egui::Id::unique("schemas-new-binding");
    let mut form: NewBinding = ui.data(|d| d.get_temp(id)).unwrap_or_default();
    let types = state
        .decoder()
        .map(|d| d.schema().message_names())
        .unwrap_or_default();
    ui.horizontal_wrapped(|ui| {
        let l = ui.label(tr!("proto.pattern"));
        ui.add(
            egui::TextEdit::singleline(&mut form.pattern)
                .hint_text("plant/+/reading")
                .desired_width(180.0),
        )
        .labelled_by(l.id);
        let l = ui.label(tr!("proto.type"));
        if types.is_empty() {
            ui.add(
                egui::TextEdit::singleline(&mut form.message_type)
                    .hint_text("package.Message")
                    .desired_width(200.0),
            )
            .labelled_by(l.id);
        } else {
            let shown = if form.message_type.is_empty() {
                tr!("proto.choose")
            } else {
                form.message_type.as_str().into()
            };
            egui::ComboBox::from_id_salt("proto-type")
                .selected_text(shown)
                .width(220.0)
                .show_ui(ui, |ui| {
                    for name in &types {
                        ui.selectable_value(&mut form.message_type, name.clone(), name);
                    }
                })
                .response
                .labelled_by(l.id);
        }
        let valid = crate::model::topic::validate_filter(form.pattern.trim()).is_ok()
            && !form.message_type.trim().is_empty();
        if ui
            .add_enabled(valid, egui::Button::new(tr!("proto.bind")))
            .clicked()
        {
            let mut changed = settings.clone();
            changed
                .bindings
                .push(Binding::new(form.pattern.trim(), form.message_type.trim()));
            actions.push(Action::SetProto(Box::new(changed)));
            form = NewBinding::default();
        }
    });
    ui.data_mut(|d| d.insert_temp(id, form));
}
