//! Words of the errors the HTTP edge itself answers with (framework
//! rejections turned into the API's format, dates outside the service's
//! horizon). (key, Japanese, English), merged into the one table by `i18n`.

pub const MESSAGES: &[(&str, &str, &str)] = &[
    ("err.bad_request", "リクエストの形式が正しくありません", "The request is not valid"),
    ("err.method_not_allowed", "この操作はできません", "This method is not allowed here"),
    ("err.date_too_late", "日付が先すぎます", "Too far ahead"),
];

#[cfg(test)]
mod tests {
    #[test]
    fn every_code_the_edge_answers_with_has_words() {
        for status in 400..600 {
            let status = axum::http::StatusCode::from_u16(status).unwrap();
            let code = crate::base::error::framework_error_code(status);
            assert!(crate::i18n::has(&format!("err.{code}")), "{status}: {code}");
        }
        for code in ["date_too_late", "date_too_early"] {
            assert!(crate::i18n::has(&format!("err.{code}")), "{code}");
        }
    }
}
