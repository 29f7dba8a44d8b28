//! Words of the pages, Japanese first, English available. One table; a
//! test checks that every key has both languages and that every key the
//! templates use exists.

use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Ja,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Ja => Lang::En,
            Lang::En => Lang::Ja,
        }
    }
}

/// (key, Japanese, English)
pub const MESSAGES: &[(&str, &str, &str)] = &[
    ("app.name", "つなぐ", "tsunagu"),
    ("app.tagline", "妊娠期から子育て期までの切れ目ない支援", "Seamless support from pregnancy through child-rearing"),
    ("lang.switch", "English", "日本語"),
    ("nav.home", "ホーム", "Home"),
    ("nav.search", "家庭をさがす", "Find a family"),
    ("nav.new_notification", "妊娠届出の登録", "Register a notification"),
    ("nav.accounts", "アカウント管理", "Accounts"),
    ("nav.audit", "監査ログ", "Audit log"),
    ("nav.signout", "サインアウト", "Sign out"),
    ("nav.my_record", "わが家の記録", "Our record"),
    ("yes", "はい", "Yes"),
    ("no", "いいえ", "No"),
    ("none", "なし", "None"),
    ("back", "戻る", "Back"),
    ("signin.title", "サインイン", "Sign in"),
    ("signin.municipality", "自治体", "Municipality"),
    ("signin.username", "ユーザー名", "User name"),
    ("signin.password", "パスワード", "Password"),
    ("signin.submit", "サインイン", "Sign in"),
    ("totp.title", "確認コード", "Verification code"),
    (
        "totp.intro",
        "認証アプリに表示されている6桁のコードを入力してください。",
        "Enter the 6-digit code shown in your authenticator app.",
    ),
    ("totp.code", "確認コード（6桁）", "Code (6 digits)"),
    ("totp.submit", "確認", "Verify"),
    ("enrol.title", "二要素認証の設定", "Set up two-factor authentication"),
    (
        "enrol.intro",
        "職員アカウントには二要素認証が必要です。認証アプリに次の秘密鍵を登録し、表示されたコードを入力してください。",
        "Staff accounts need a second factor. Add this secret to your authenticator app, then enter the code it shows.",
    ),
    ("enrol.secret", "秘密鍵", "Secret"),
    ("enrol.uri", "登録用URI", "Set-up URI"),
    ("home.title", "ホーム", "Home"),
    ("home.welcome", "ようこそ", "Welcome"),
    (
        "home.analyst",
        "集計レポートは個人を特定できない形でのみ表示されます。",
        "Reports are shown only in a form that cannot single out a person.",
    ),
    ("search.title", "家庭をさがす", "Find a family"),
    ("search.kana", "母の氏名（かな）", "Mother's name (kana)"),
    (
        "search.hint",
        "ひらがな・カタカナ・半角・空白のちがいは区別しません",
        "Hiragana, katakana, half width and spaces are all the same here",
    ),
    ("search.submit", "検索", "Search"),
    ("search.none", "該当する家庭はありません。", "No family matches."),
    ("search.count", "件", "found"),
    ("col.name", "氏名", "Name"),
    ("col.kana", "かな", "Kana"),
    ("col.birth_date", "生年月日", "Date of birth"),
    ("col.edd", "出産予定日", "Expected delivery"),
    ("col.area", "地区", "Area"),
    ("family.title", "家庭の記録", "Family record"),
    ("family.mother", "母", "Mother"),
    ("family.partner", "パートナー", "Partner"),
    ("family.children", "子ども", "Children"),
    ("family.pregnancies", "妊娠", "Pregnancies"),
    ("family.area", "地区", "Area"),
    ("family.fee_bracket", "世帯の課税区分", "Household fee bracket"),
    ("family.consent_coordinators", "コーディネーターとの情報共有に同意", "Agreed to share with coordinators"),
    ("family.consent_hubs", "子育て支援拠点との情報共有に同意", "Agreed to share with childcare hubs"),
    ("family.escalated", "要保護児童対策地域協議会の対象", "Escalated to child protection"),
    (
        "family.audit_note",
        "この記録の閲覧は監査ログに記録されます。",
        "Opening this record is written to the audit log.",
    ),
    ("preg.notified_on", "届出日", "Notified on"),
    ("preg.edd", "出産予定日", "Expected date of delivery"),
    ("preg.foetuses", "胎児数", "Number of foetuses"),
    ("preg.first_child", "第1子", "First child"),
    ("preg.status", "状態", "Status"),
    ("preg.handbook_number", "母子健康手帳番号", "Handbook number"),
    ("preg.record_birth", "出生を記録", "Record the birth"),
    ("status.ongoing", "妊娠中", "Ongoing"),
    ("status.delivered", "出産済み", "Delivered"),
    ("status.lost", "妊娠の終了", "Pregnancy ended"),
    ("status.moved_out", "転出", "Moved out"),
    ("bracket.taxed", "課税世帯", "Taxed household"),
    ("bracket.non_taxed", "非課税世帯（均等割のみ課税を含む）", "Non-taxed household (incl. per-capita only)"),
    ("bracket.public_assistance", "生活保護世帯", "Public-assistance household"),
    ("sex.female", "女", "Female"),
    ("sex.male", "男", "Male"),
    ("sex.undetermined", "未判定", "Undetermined"),
    ("notif.title", "妊娠届出の登録", "Register a pregnancy notification"),
    ("notif.mother", "妊婦", "Pregnant woman"),
    ("notif.partner", "パートナー（任意）", "Partner (optional)"),
    ("notif.add_partner", "パートナーを登録する", "Record a partner"),
    ("notif.pregnancy", "妊娠", "Pregnancy"),
    ("notif.household", "世帯と同意", "Household and consent"),
    ("notif.submit", "登録する", "Register"),
    ("notif.saved", "妊娠届出を登録しました。", "The notification was registered."),
    ("notif.fix", "入力内容を確認してください。何も保存されていません。", "Please check the form. Nothing was saved."),
    ("field.family_name", "氏", "Family name"),
    ("field.given_name", "名", "Given name"),
    ("field.family_name_kana", "氏（かな）", "Family name (kana)"),
    ("field.given_name_kana", "名（かな）", "Given name (kana)"),
    ("field.birth_date", "生年月日", "Date of birth"),
    ("birth.title", "出生の記録", "Record a birth"),
    ("birth.baby", "赤ちゃん", "Baby"),
    ("birth.birth_date", "出生日", "Date of birth"),
    ("birth.sex", "性別", "Sex"),
    ("birth.given_name", "名（未定なら空欄）", "Given name (blank if not yet chosen)"),
    ("birth.given_name_kana", "名（かな）", "Given name (kana)"),
    ("birth.gestational_weeks", "在胎週数（週）", "Gestational age (weeks)"),
    ("birth.gestational_days", "在胎週数（日）", "Gestational age (days)"),
    ("birth.weight", "出生体重（g）", "Birth weight (g)"),
    ("birth.long_hosp", "長期入院（修正月齢を使う）", "Long hospitalisation (use corrected age)"),
    ("birth.gestational_age", "在胎週数", "Gestational age"),
    ("birth.long_hosp_short", "長期入院", "long stay"),
    ("unit.weeks", "週", "w "),
    ("unit.days", "日", "d"),
    ("birth.babies_born", "生まれた赤ちゃんの数", "Babies born"),
    ("birth.submit", "記録する", "Record"),
    ("birth.saved", "出生を記録しました。", "The birth was recorded."),
    ("accounts.title", "アカウント管理", "Accounts"),
    ("accounts.create", "アカウントを作成", "Create an account"),
    ("accounts.username", "ユーザー名", "User name"),
    ("accounts.display_name", "表示名", "Display name"),
    ("accounts.role", "役割", "Role"),
    ("accounts.password", "初期パスワード（12文字以上）", "Initial password (12 characters or more)"),
    ("accounts.new_password", "新しいパスワード", "New password"),
    ("accounts.areas", "担当地区", "Areas"),
    ("accounts.venues", "担当施設", "Venues"),
    ("accounts.family_id", "家庭番号（家族アカウントのみ）", "Family number (family accounts only)"),
    ("accounts.disable", "無効にする", "Disable"),
    ("accounts.enable", "有効にする", "Enable"),
    ("accounts.reset_password", "パスワード再設定", "Reset password"),
    ("accounts.reset_totp", "二要素認証を再設定", "Reset second factor"),
    ("accounts.state", "状態", "State"),
    ("accounts.disabled", "無効", "Disabled"),
    ("accounts.active", "有効", "Active"),
    ("accounts.totp", "二要素認証", "Second factor"),
    ("accounts.totp_on", "設定済み", "Enrolled"),
    ("accounts.totp_off", "未設定", "Not enrolled"),
    ("accounts.created", "アカウントを作成しました。", "The account was created."),
    ("accounts.updated", "アカウントを更新しました。", "The account was updated."),
    ("role.family_member", "家族", "Family member"),
    ("role.nurse", "保健師", "Public-health nurse"),
    ("role.coordinator", "コーディネーター", "Coordinator"),
    ("role.facility_staff", "産後ケア施設職員", "Postpartum-care staff"),
    ("role.programme_staff", "講座スタッフ", "Programme staff"),
    ("role.peer_supporter", "応援団（ピアサポーター）", "Peer supporter"),
    ("role.caseworker", "ケースワーカー", "Caseworker"),
    ("role.admin", "自治体管理者", "Municipal administrator"),
    ("role.analyst", "集計担当", "Analyst"),
    ("audit.title", "監査ログ", "Audit log"),
    (
        "audit.intro",
        "職員による個人記録の閲覧・変更はすべて記録され、編集・削除はできません。",
        "Every staff read or change of a person's record is recorded; no one can edit or delete it.",
    ),
    ("audit.at", "日時", "When"),
    ("audit.actor", "アカウント番号", "Account no."),
    ("audit.role", "役割", "Role"),
    ("audit.action", "操作", "Action"),
    ("audit.family", "家庭番号", "Family no."),
    ("audit.detail", "詳細", "Detail"),
    ("audit.reason", "理由", "Reason"),
    ("audit.addr", "接続元", "From"),
    ("audit.filter", "絞り込み", "Filter"),
    ("audit.any", "すべて", "Any"),
    ("me.title", "わが家の記録", "Our record"),
    (
        "me.intro",
        "自治体に登録されている、あなたの家庭の記録です。",
        "This is your family's record as the municipality holds it.",
    ),
    ("err.page_title", "エラー", "Error"),
    ("err.required", "入力してください", "Required"),
    ("err.too_long", "長すぎます", "Too long"),
    ("err.invalid", "使えない文字が含まれています", "Contains characters that cannot be used"),
    ("err.not_kana", "ひらがな又はカタカナで入力してください", "Enter in hiragana or katakana"),
    ("err.invalid_date", "日付を YYYY-MM-DD の形で正しく入力してください", "Enter a real date as YYYY-MM-DD"),
    ("err.date_in_future", "未来の日付は入力できません", "Cannot be in the future"),
    ("err.date_too_early", "日付が古すぎます", "Too far in the past"),
    ("err.edd_too_early", "出産予定日が届出日より前すぎます", "The expected date is too long before the notification"),
    ("err.edd_too_late", "出産予定日が先すぎます", "The expected date is too far ahead"),
    ("err.out_of_range", "範囲外の値です", "Out of range"),
    ("err.invalid_choice", "選択肢から選んでください", "Choose one of the options"),
    ("err.mother_too_young", "生年月日を確認してください", "Check the date of birth"),
    ("err.birth_before_pregnancy", "出生日が妊娠期間より前です", "The birth date is before the pregnancy"),
    ("err.birth_too_late", "出生日が出産予定日より後すぎます", "The birth date is too long after the expected date"),
    ("err.more_than_foetuses", "届出の胎児数より多く記録できません", "More babies than foetuses were notified"),
    ("err.births_too_far_apart", "多胎の出生日が離れすぎています", "The births of a multiple are too far apart"),
    ("err.not_ongoing", "この妊娠は既に終わっています", "This pregnancy has already ended"),
    ("err.unknown_reference", "選択された項目が見つかりません", "The chosen item does not exist"),
    ("err.password_too_short", "パスワードは12文字以上にしてください", "Use 12 characters or more"),
    ("err.password_too_long", "パスワードが長すぎます", "The password is too long"),
    ("err.password_too_common", "よく使われるパスワードは使えません", "This password is too common"),
    ("err.unauthenticated", "サインインしてください", "Please sign in"),
    ("err.forbidden", "このページを見る権限がありません", "You may not open this page"),
    ("err.not_found", "見つかりません", "Not found"),
    ("err.invalid_input", "入力内容に誤りがあります", "The input has errors"),
    ("err.payload_too_large", "送信された内容が大きすぎます", "The request is too large"),
    (
        "err.too_many_attempts",
        "試行回数が多すぎます。しばらくしてからやり直してください",
        "Too many attempts; try again later",
    ),
    (
        "err.unavailable",
        "ただいまデータベースに接続できません。しばらくしてからやり直してください",
        "The database cannot be reached right now; try again shortly",
    ),
    ("err.internal", "システムエラーが発生しました", "Something went wrong"),
    ("err.duplicate_notification", "同じ妊娠の届出が既に登録されています", "This pregnancy is already registered"),
    ("err.handbook_number_taken", "この母子健康手帳番号は既に使われています", "This handbook number is already in use"),
    ("err.username_taken", "このユーザー名は既に使われています", "This user name is taken"),
    ("err.pregnancy_not_ongoing", "この妊娠は既に終わっています", "This pregnancy has already ended"),
    ("err.invalid_json", "JSON の形式が正しくありません", "The body is not valid JSON of the expected shape"),
    (
        "err.unsupported_media_type",
        "Content-Type は application/json にしてください",
        "Send Content-Type: application/json",
    ),
    ("err.csrf", "フォームの有効期限が切れました。もう一度送信してください", "The form expired; please send it again"),
    (
        "err.invalid_credentials",
        "自治体・ユーザー名・パスワードのいずれかが違います",
        "The municipality, user name or password is wrong",
    ),
    ("err.otp_required", "確認コードが必要です", "A verification code is required"),
    ("err.invalid_otp", "確認コードが違います", "The code is wrong"),
    (
        "err.code_locked",
        "確認コードの誤りが続いたため、このアカウントのサインインを一時的に止めています。しばらくは正しいコードでも受け付けません",
        "Too many wrong codes: signing in to this account is paused for a while, and until then even the right code is refused",
    ),
    (
        "err.too_many_codes",
        "確認コードの誤りが続いたため、このサインインを終了しました。もう一度パスワードからサインインしてください",
        "Too many wrong codes: this sign-in has ended. Please sign in again, starting with your password",
    ),
    (
        "err.busy",
        "ただいま混み合っています。少し待ってからもう一度お試しください",
        "The service is busy right now; please try again in a moment",
    ),
    ("signin.retry_before", "約", "Try again in about"),
    ("signin.retry_after", "分後にもう一度お試しください。", "minutes."),
    ("err.bad_query", "検索条件が正しくありません", "The query is not valid"),
    ("err.unknown_municipality", "自治体コードが正しくありません", "Unknown municipality code"),
    ("err.scope_required", "この役割には担当範囲が必要です", "This role needs a scope"),
    ("nav.postpartum", "産後ケア", "Postpartum care"),
    ("nav.figures", "産後ケアの実績", "Postpartum figures"),
    ("pp.title", "産後ケア", "Postpartum care"),
    ("pp.intro", "産後4か月未満（アウトリーチは1歳未満）の母子が、助産師のケアを受けられます。", "Mothers and babies under 4 months (outreach: under 1 year) can stay with or be visited by midwives."),
    ("pp.apply", "産後ケアを申し込む", "Apply for postpartum care"),
    ("pp.apply_title", "産後ケアの申込み", "Apply for postpartum care"),
    ("pp.apply_intro", "「料金と対象を確認」で利用料と利用の可否を確かめてから申し込めます。", "Check the fee and whether you are eligible first; then apply."),
    ("pp.applied", "申し込みました。保健師が内容を確認します。", "Applied. A public-health nurse will review it."),
    ("pp.updated", "更新しました。", "Updated."),
    ("pp.none", "申込みはありません。", "No applications."),
    ("pp.stay", "利用日", "Days"),
    ("pp.facility", "施設", "Facility"),
    ("pp.service", "利用の種類", "Service"),
    ("pp.service.short_stay", "ショートステイ（宿泊）", "Short stay"),
    ("pp.service.day_care", "デイケア（日帰り）", "Day care"),
    ("pp.service.outreach", "アウトリーチ（訪問）", "Outreach visit"),
    ("pp.status", "状態", "Status"),
    ("pp.status.applied", "審査待ち", "Waiting for review"),
    ("pp.status.approved", "利用決定", "Approved"),
    ("pp.status.rejected", "利用不可", "Not approved"),
    ("pp.status.cancelled", "取消し", "Cancelled"),
    ("pp.first_day", "利用開始日", "First day"),
    ("pp.days", "日数（6泊7日なら7）", "Days (6 nights = 7)"),
    ("pp.babies", "赤ちゃんの人数", "Babies"),
    ("pp.siblings", "一緒に来る未就学のきょうだい（1人まで）", "Preschool sibling coming along (at most 1)"),
    ("pp.situation", "いまの状況", "Your situation"),
    ("pp.q.worries", "体調や育児に不安・疲れがある", "I have worries or fatigue about my health or parenting"),
    ("pp.q.no_help", "家族・親族から十分な手助けを受けられない", "I cannot get enough help from family"),
    ("pp.q.grandparents", "祖父母が同居・近くに住んでいる（利用できない理由にはなりません）", "Grandparents live with or near us (this never prevents use)"),
    ("pp.q.rolls_over", "赤ちゃんが盛んに寝返りをする", "The baby rolls over actively"),
    ("pp.q.medical", "母または赤ちゃんに医療的な処置が必要", "Mother or baby needs medical treatment"),
    ("pp.override_reason", "対象外でも利用を認める理由（保健師）", "Reason to go ahead despite the check (nurse)"),
    ("pp.quote", "利用料の見積もり", "Fee quote"),
    ("pp.total", "合計", "Total"),
    ("pp.yen", "円", " yen"),
    ("pp.fee.mother_and_baby", "母子", "Mother and baby"),
    ("pp.fee.sibling", "きょうだい", "Sibling"),
    ("pp.fee.extra_baby", "多胎（2人目以降の赤ちゃん）", "Each extra baby of a multiple birth"),
    ("pp.fee.outreach_visit", "訪問", "Visit"),
    ("pp.fee.outreach_extra_baby", "訪問・多胎（2人目以降）", "Visit, each extra baby"),
    ("pp.transport_paid", "送迎費用は区が負担します（要件あり）。", "The city pays for transport (conditions apply)."),
    ("pp.transport_paid_short", "送迎費用は区負担", "transport paid by the city"),
    ("pp.eligible", "この内容で利用の対象になります。", "You are eligible for this."),
    ("pp.not_eligible", "この内容では利用の対象になりません：", "Not eligible as asked:"),
    ("pp.last_eligible_day", "利用できる最後の日", "Last eligible day"),
    ("pp.preview", "料金と対象を確認", "Check fee and eligibility"),
    ("pp.submit", "この内容で申し込む", "Apply"),
    ("pp.application_title", "産後ケアの申込み内容", "Postpartum-care application"),
    ("pp.review", "審査", "Review"),
    ("pp.review_note", "メモ", "Note"),
    ("pp.approve", "利用を決定する", "Approve"),
    ("pp.reject", "利用不可とする", "Reject"),
    ("pp.reject_reason", "理由", "Reason"),
    ("pp.cancel", "取り消す", "Cancel"),
    ("pp.cancel_reason", "取消しの理由（任意）", "Reason (optional)"),
    ("pp.notes", "利用日の記録", "Day records"),
    ("pp.note_day", "日付", "Day"),
    ("pp.note", "記録", "Record"),
    ("pp.add_note", "記録する", "Add"),
    ("pp.figures_title", "産後ケアの利用実績", "Postpartum-care figures"),
    ("pp.fiscal_year", "年度", "Fiscal year"),
    ("pp.families", "利用家族数", "Families"),
    ("pp.occupancy", "稼働率", "Occupancy"),
    ("pp.users_by_area", "地区別の利用家族数（施設をまたいで1家族1件）", "Families by area (each family counted once)"),
    ("pp.figures_note", "稼働率＝利用組数の延べ ÷（開所日の定員の合計）。", "Occupancy = places used ÷ places offered on open days."),
    ("pp.why.not_resident", "母子ともに区内に住所があることが必要です", "Mother and baby must both live in the city"),
    ("pp.why.requested_before_birth", "出生前の日は申し込めません", "Days before the birth cannot be booked"),
    ("pp.why.baby_too_old", "赤ちゃんの月齢が対象を超える日があります（宿泊・日帰りは4か月未満、訪問は1歳未満。長期入院した赤ちゃんは修正月齢）", "The baby is over the age limit on some day (under 4 months for stays, 1 year for visits; corrected age after a long hospital stay)"),
    ("pp.why.rolls_over", "盛んに寝返りをする赤ちゃんは、安全のため宿泊・日帰りを利用できません", "For safety, babies who roll over actively cannot stay"),
    ("pp.why.too_many_siblings", "一緒に来られるきょうだいは1人までです", "At most one sibling may come along"),
    ("pp.why.siblings_not_offered", "この施設・種類ではきょうだいを受け入れていません", "This facility does not take siblings for this service"),
    ("pp.why.needs_medical_treatment", "医療的な処置が必要な場合は利用できません", "Not available when medical treatment is needed"),
    ("pp.why.no_worries_reported", "体調や育児への不安・疲れがある方が対象です", "For mothers with worries or fatigue"),
    ("pp.why.enough_help_at_home", "家族から十分な支援を受けられない方が対象です", "For families without enough help at home"),
    ("pp.why.facility_closed", "施設の休業日が含まれています", "The facility is closed on some of these days"),
    ("pp.why.no_capacity", "空きのない日があります", "A day is full"),
    ("pp.why.not_applied", "この申込みは既に審査済みです", "This application has already been decided"),
    ("pp.why.not_eligible", "対象外の申込みです。保健師が理由を記入すれば申し込めます", "Not eligible; a nurse may go ahead with a reason"),
    ("pp.why.not_configured", "この自治体の利用料表が設定されていません", "This city's fee table is not configured"),
    ("pp.why.days_out_of_range", "日数は1〜7日にしてください", "Choose 1 to 7 days"),
    ("pp.why.babies_out_of_range", "赤ちゃんの人数を確認してください", "Check the number of babies"),
    ("pp.why.no_baby_on_record", "出生がまだ記録されていません", "No birth is on record yet"),
    ("pp.why.not_offered", "この施設ではその種類を行っていません", "This facility does not offer that service"),
    ("err.date_in_past", "過去の日付は選べません", "Cannot be in the past"),
    ("nav.referrals", "連絡・フォロー", "Referrals"),
    ("ref.title", "気になる家庭の連絡", "Referrals"),
    ("ref.detail_title", "連絡の内容", "Referral"),
    ("ref.intro_nurse", "各職種からの連絡です。至急のものが上に出ます。", "Concerns raised by everyone who meets families; urgent ones first."),
    ("ref.intro_raiser", "あなたが伝えた連絡の対応状況です。", "What became of the concerns you raised."),
    ("ref.none", "連絡はありません。", "No referrals."),
    ("ref.raised_at", "連絡日時", "Raised"),
    ("ref.raised_by", "連絡した職種", "Raised by"),
    ("ref.urgent", "至急", "Urgent"),
    ("ref.urgent_today", "至急（今日中に対応が必要）", "Urgent (needs follow-up today)"),
    ("ref.note", "気になったこと", "What you noticed"),
    ("ref.raise", "気になることを保健師に伝える", "Tell the nurse about a concern"),
    ("ref.alert", "保健師・ケースワーカーへの連絡", "Alert the nurse or caseworker"),
    ("ref.send", "伝える", "Send"),
    ("ref.raised", "保健師に伝えました。対応状況はここと「連絡・フォロー」で確認できます。", "Sent to the nurse. You can follow what becomes of it here and under Referrals."),
    ("ref.note_required", "気になったことを書いてください。", "Please write what you noticed."),
    ("ref.escalated", "ケースワーカーへ引継ぎ", "Escalated to a caseworker"),
    ("ref.sem", "特定妊婦", "Specified expectant mother"),
    ("ref.actions", "対応", "Actions"),
    ("ref.history", "経過", "History"),
    ("ref.close_reason", "終了の理由", "Reason for closing"),
    ("ref.status.raised", "未確認", "Not yet seen"),
    ("ref.status.received", "受付済み", "Received"),
    ("ref.status.in_progress", "対応中", "In progress"),
    ("ref.status.closed", "終了", "Closed"),
    ("ref.act.raise", "連絡", "Raised"),
    ("ref.act.receive", "受け付ける", "Receive"),
    ("ref.act.start", "対応を始める", "Start"),
    ("ref.act.escalate", "ケースワーカーへ引き継ぐ", "Escalate to caseworker"),
    ("ref.act.mark_specified_expectant_mother", "特定妊婦とする", "Mark specified expectant mother"),
    ("ref.act.clear_specified_expectant_mother", "特定妊婦を解除する", "Clear specified expectant mother"),
    ("ref.act.close", "終了する", "Close"),
    ("ref.close.resolved", "対応済み", "Resolved"),
    ("ref.close.no_concern", "心配なし", "No concern"),
    ("ref.close.duplicate", "重複", "Duplicate"),
    ("ref.close.moved_out", "転出", "Moved out"),
    ("ref.why.referral_changed", "ほかの人が先に更新しました。もう一度確認してください。", "Someone else changed it first; please look again."),
    ("ref.why.referral_step_not_allowed", "この状態ではその対応はできません", "That step is not possible from this state"),
    ("fu.title", "オンライン相談（20分）", "Online follow-up (20 min)"),
    ("fu.intro", "産後ケアを利用した方は、赤ちゃんが1歳になるまで施設の助産師にオンラインで相談できます。", "Former users can consult the facility's midwives online until the baby turns 1."),
    ("fu.none_offered", "利用した施設がないため、予約できる相談はありません。", "No consultation to book: no stay on record."),
    ("fu.no_slots", "4週間以内に予約できる枠はありません。", "No free slot in the next four weeks."),
    ("fu.bookings", "予約", "Bookings"),
    ("fu.no_bookings", "予約はありません。", "No bookings."),
    ("fu.count", "今年度の相談件数", "Consultations this fiscal year"),
    ("pp.why.not_former_user", "この施設を利用したことがある方が対象です", "For families who stayed at this facility"),
    ("pp.why.slot_taken", "その枠は予約済みです", "That slot is taken"),
    ("pp.why.not_a_slot", "相談枠ではありません", "Not a consultation slot"),
    ("pp.why.not_a_current_user", "施設を利用中の方が対象です", "For families staying at the facility at the time"),
    ("pp.why.already_joined", "すでに申し込んでいます", "Already joined"),
    ("talk.title", "地域の子育て情報の紹介（オンライン）", "Local childcare information talk (online)"),
    ("talk.intro", "産後ケアセンター利用中の母子向けに、地域子育て支援コーディネーターがおでかけ先などを紹介します（月2回程度・30分）。", "For families staying at the centre: a coordinator introduces local places and services (about twice a month, 30 minutes)."),
    ("talk.none", "予定はありません。", "Nothing scheduled."),
    ("talk.people", "組", " families"),
    ("talk.join", "参加する", "Join"),
    ("talk.new", "回を追加", "Add a session"),
    ("talk.starts", "開始日時", "Starts"),
    ("talk.topic", "内容", "Topic"),
    ("talk.create", "追加する", "Add"),
    ("inc.title", "事故等の報告", "Incident reports"),
    ("inc.heading", "区分（安全管理マニュアル）", "Heading (safety manual)"),
    ("inc.occurred", "発生日時", "When"),
    ("inc.summary", "概要", "Summary"),
    ("inc.report", "報告する", "Report"),
    ("inc.none", "今年度の報告はありません。", "No reports this fiscal year."),
    ("err.cannot_disable_self", "自分のアカウントは無効にできません", "You cannot disable your own account"),
    ("err.family_required", "家族アカウントには家庭番号が必要です", "A family account needs a family number"),
    // --- screening (DOMAIN.md §7) ---
    ("nav.screenings", "質問票", "Questionnaires"),
    ("me.screenings", "質問票に回答する", "Answer questionnaires"),
    ("scr.title", "質問票", "Questionnaires"),
    ("scr.staff_title", "質問票・スクリーニング", "Questionnaires and screening"),
    ("scr.q.epds", "エジンバラ産後うつ病質問票（EPDS）", "Edinburgh Postnatal Depression Scale (EPDS)"),
    ("scr.q.bonding", "赤ちゃんへの気持ち質問票", "Mother-to-infant bonding questionnaire"),
    ("scr.q.support_checklist", "育児支援チェックリスト", "Parenting-support checklist"),
    ("scr.q.notification", "妊娠届出時アンケート", "Pregnancy notification questionnaire"),
    ("scr.q.unknown", "質問票", "Questionnaire"),
    ("scr.reason.epds_total_9_or_more", "EPDS合計点が9点以上", "EPDS total of 9 or more"),
    ("scr.reason.epds_item_10_self_harm", "EPDS項目10（自分を傷つける考え）が0点より高い：当日中の対応", "EPDS item 10 (thoughts of self-harm) above 0: same-day follow-up"),
    ("scr.reason.bonding_total_at_cut_off", "赤ちゃんへの気持ち質問票の合計点が区分点以上", "Bonding total at or above the cut-off"),
    ("scr.reason.past_mental_health_care", "精神科・心療内科の受診歴", "Past mental-health care"),
    ("scr.reason.urge_to_hit_baby", "赤ちゃんをたたきたくなる気持ち", "Urge to hit the baby"),
    ("scr.reason.several_risk_answers", "支援が必要と思われる回答が複数", "Several answers that call for support"),
    ("scr.reason.mental_illness_history", "精神疾患の既往", "History of mental illness"),
    ("scr.reason.troubled_by_pregnancy", "妊娠への戸惑い", "Troubled by the pregnancy"),
    ("scr.reason.under_20", "20歳未満", "Under 20"),
    ("scr.reason.low_mood", "気分の落ち込み・興味の喪失", "Low mood or loss of interest"),
    ("scr.reason.afraid_at_home", "家庭内で身の危険を感じている", "Afraid of someone at home"),
    ("scr.reason.several_concerns", "気になる回答が複数", "Several concerns"),
    ("scr.reason.unknown", "（理由の記載なし）", "(reason not described)"),
    ("scr.item", "質問", "Question"),
    ("scr.answer", "回答", "Answer"),
    ("scr.answers", "回答の内容", "Answers"),
    ("scr.opt.yes", "はい", "Yes"),
    ("scr.opt.no", "いいえ", "No"),
    ("scr.list_sep", "、", ", "),
    ("scr.version", "版", "version"),
    ("scr.err.required", "この質問に答えてください", "Please answer this question"),
    ("scr.err.invalid_choice", "選択肢から選んでください", "Choose one of the answers"),
    ("scr.err.unknown_item", "この質問票にない質問です", "Not a question of this questionnaire"),
    ("err.unknown_item", "この質問票にない項目です", "Not an item of this questionnaire"),
    ("err.questionnaire_not_offered", "この質問票には今は回答できません", "This questionnaire is not open to you now"),
    ("err.questionnaire_version_unknown", "この版の質問票は見つかりません", "This version of the questionnaire is not known"),
    ("scr.intro_family", "ご家族の毎日の暮らしのために、いくつかの質問にお答えください。回答は担当の保健師が拝見します。", "Please answer a few questions about how you are. Your public-health nurse reads your answers."),
    ("scr.none_for_you", "いま回答をお願いしている質問票はありません。", "There is no questionnaire for you to answer now."),
    ("scr.form_intro", "それぞれの質問に、いまのお気持ちにいちばん近い回答を一つ選んでください。", "For each question, choose the one answer closest to how you feel now."),
    ("scr.from_paper_note", "紙の質問票の回答を、そのとおりに入力してください。", "Enter the answers exactly as given on the paper form."),
    ("scr.placeholder_note", "ここに表示している質問と回答は仮の表示です。実際の運用では、自治体が使用許諾を受けた質問票の正式な文言がここに入ります。", "The questions and answers shown here are placeholders: the municipality's licensed wording of the questionnaire goes here."),
    ("scr.fix", "回答していない質問があります。印のついた質問をご確認ください。", "Some questions need an answer: see the ones marked."),
    ("scr.submit", "送信する", "Send"),
    ("scr.thanks_title", "ご回答ありがとうございました", "Thank you for your answers"),
    ("scr.thanks", "回答を受け付けました。担当の保健師が拝見します。", "We have received your answers. Your public-health nurse will read them."),
    ("scr.help_title", "いま、つらい気持ちのときは", "If things feel hard right now"),
    ("scr.help_contact", "ひとりで抱え込まないでください。自治体の担当者から、できるだけ早くご連絡します。", "You do not have to carry this alone. Staff of your municipality will contact you as soon as they can."),
    ("scr.help_emergency", "緊急のとき：119（救急）・110（警察）　相談窓口：【自治体の電話番号がここに入ります】", "In an emergency: 119 (ambulance), 110 (police). Helpline: [the municipality's phone number goes here]"),
    ("scr.back_home", "わが家の記録へ戻る", "Back to our record"),
    ("scr.enter_from_paper", "紙の質問票から入力する", "Enter a paper form"),
    ("scr.responses", "回答の記録", "Responses"),
    ("scr.no_responses", "回答はまだありません。", "No responses yet."),
    ("scr.col.date", "回答日時", "Answered"),
    ("scr.col.questionnaire", "質問票", "Questionnaire"),
    ("scr.col.total", "合計点", "Total"),
    ("scr.col.result", "判定", "Result"),
    ("scr.col.reasons", "理由", "Reasons"),
    ("scr.col.entered_by", "入力", "Entered by"),
    ("scr.col.score", "点数", "Score"),
    ("scr.result.urgent", "至急（当日中に対応）", "Urgent (same day)"),
    ("scr.result.positive", "要フォロー", "Positive: follow up"),
    ("scr.result.negative", "該当なし", "Negative"),
    ("scr.referral", "保健師への連絡", "Referral"),
    ("scr.recorded", "回答を記録しました。", "The answers were recorded."),
    ("scr.recorded_referral", "回答を記録しました。フォローが必要な結果のため、保健師への連絡を作成しました。", "Recorded. The result calls for follow-up: a referral to the nurse was raised."),
    ("scr.detail_title", "質問票の回答", "Questionnaire response"),
    ("scr.fhir", "FHIR R4 で書き出す", "Export as FHIR R4"),
    ("ref.source", "きっかけ", "Source"),
    ("ref.source.observation", "気づき", "Observation"),
    ("ref.source.screening", "スクリーニング", "Screening"),
    ("ref.source.chat_escalation", "チャットから", "From a chat"),
];

fn table() -> &'static HashMap<&'static str, (&'static str, &'static str)> {
    static TABLE: OnceLock<HashMap<&'static str, (&'static str, &'static str)>> = OnceLock::new();
    TABLE.get_or_init(|| all_messages().map(|(k, ja, en)| (*k, (*ja, *en))).collect())
}

/// Every table: the general one and one per capability that keeps its own.
fn all_messages() -> impl Iterator<Item = &'static (&'static str, &'static str, &'static str)> {
    MESSAGES
        .iter()
        .chain(crate::i18n_timeline::MESSAGES)
        .chain(crate::i18n_meetings::MESSAGES)
        .chain(crate::i18n_edge::MESSAGES)
}

/// The text for `key`; the key itself when it is missing (a test keeps that from happening).
pub fn t(lang: Lang, key: &str) -> &'static str {
    match table().get(key) {
        Some((ja, en)) => match lang {
            Lang::Ja => ja,
            Lang::En => en,
        },
        None => {
            tracing::warn!(key, "missing message");
            "?"
        }
    }
}

pub fn has(key: &str) -> bool {
    table().contains_key(key)
}

/// What templates hold to look words up: `{{ tr.t("nav.home") }}`.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Lang);

impl Tr {
    pub fn t(&self, key: &str) -> &'static str {
        t(self.0, key)
    }

    /// Looks up `prefix` + `suffix`, e.g. `tr.tk("role.", role)`.
    pub fn tk(&self, prefix: &str, suffix: &str) -> &'static str {
        t(self.0, &format!("{prefix}{suffix}"))
    }

    pub fn lang(&self) -> &'static str {
        self.0.code()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_unique_and_has_both_languages() {
        let mut seen = std::collections::HashSet::new();
        for (k, ja, en) in all_messages() {
            assert!(seen.insert(*k), "duplicate key {k}");
            assert!(!ja.trim().is_empty() && !en.trim().is_empty(), "{k} lacks a language");
        }
    }

    #[test]
    fn every_key_used_by_a_template_or_the_code_exists() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for part in text.split("tr.t(\"").skip(1) {
                let key = part.split('"').next().unwrap();
                assert!(has(key), "template uses missing key {key}");
                checked += 1;
            }
        }
        assert!(checked > 50, "only {checked} keys found in templates");
    }

    #[test]
    fn every_error_code_has_words() {
        use tsunagu_domain::records::FeeBracket;
        use tsunagu_domain::roles::Role;
        for code in [
            "required",
            "too_long",
            "invalid",
            "not_kana",
            "invalid_date",
            "date_in_future",
            "date_too_early",
            "edd_too_early",
            "edd_too_late",
            "out_of_range",
            "invalid_choice",
            "mother_too_young",
            "birth_before_pregnancy",
            "birth_too_late",
            "more_than_foetuses",
            "births_too_far_apart",
            "not_ongoing",
            "unknown_reference",
            "password_too_short",
            "password_too_long",
            "password_too_common",
            "invalid_month",
            "meeting_too_early",
            "too_many",
            "not_proposed",
            "duplicate",
            "not_a_member",
            "too_many_attempts",
            "code_locked",
            "too_many_codes",
            "busy",
        ] {
            assert!(has(&format!("err.{code}")), "{code}");
        }
        for r in Role::ALL {
            assert!(has(&format!("role.{}", r.as_str())));
        }
        for b in FeeBracket::ALL {
            assert!(has(&format!("bracket.{}", b.as_str())));
        }
    }
}
