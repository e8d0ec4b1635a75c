//! `{{t "key" name=value}}` in templates: the message in the page's language (its `lang`
//! field), arguments escaped as the template's own output is (HTML pages, not text mail).
use std::borrow::Cow;

use fluent_templates::fluent_bundle::FluentValue;
use handlebars::{Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext, RenderErrorReason};
use serde_json::Value;

use super::Lang;

/// The `t` helper. The message text is trusted (our `.ftl` files may hold markup such as
/// `<strong>`); each argument, which may come from a person or a client, is escaped.
#[derive(Debug, Clone, Copy)]
pub struct Translate;

impl HelperDef for Translate {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        r: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let key = h
            .param(0)
            .and_then(|p| p.value().as_str())
            .ok_or(RenderErrorReason::ParamNotFoundForIndex("t", 0))?;
        let lang = ctx
            .data()
            .get("lang")
            .and_then(Value::as_str)
            .and_then(Lang::from_tag)
            .unwrap_or_else(super::current);
        let escape = r.get_escape_fn();
        let mut args: Vec<(&str, FluentValue<'static>)> = Vec::new();
        for (name, value) in h.hash() {
            if value.is_value_missing() && r.strict_mode() {
                return Err(RenderErrorReason::MissingVariable(value.relative_path().cloned()).into());
            }
            let v = match value.value() {
                Value::Number(n) => match n.as_i64() {
                    Some(i) => FluentValue::from(i),
                    None => FluentValue::from(n.as_f64().unwrap_or_default()),
                },
                Value::String(s) => FluentValue::String(Cow::Owned(escape(s))),
                Value::Null => FluentValue::String(Cow::Borrowed("")),
                other => FluentValue::String(Cow::Owned(escape(&other.to_string()))),
            };
            args.push((name, v));
        }
        out.write(&lang.text_with(key, &args))?;
        Ok(())
    }
}
