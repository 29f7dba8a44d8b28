### 共通の言葉：アプリ名、メニュー、共通のエラー

app-name = つなぐ
app-tagline = 妊娠期から子育て期までの切れ目ない支援

# もう一方の言語への切り替えリンク。その言語で書きます。
lang-switch = English

nav-home = ホーム
nav-signout = サインアウト

yes = はい

no = いいえ

none = なし

back = 戻る

home-title = ホーム
home-welcome = ようこそ
home-analyst = 集計レポートは個人を特定できない形でのみ表示されます。

# 在胎週数の「N週」。数のすぐ後に続きます（間に空白なし）。
unit-weeks = 週
# 数のすぐ後に続きます（間に空白なし）。
unit-days = 日

err-page_title = エラー
err-required = 入力してください
err-too_long = 長すぎます
err-invalid = 使えない文字が含まれています
err-invalid_date = 日付を YYYY-MM-DD の形で正しく入力してください
err-date_too_early = 日付が古すぎます
err-out_of_range = 範囲外の値です
err-not_an_id = 番号として読めません（数字で入力してください）
err-invalid_choice = 選択肢から選んでください
err-unknown_reference = 選択された項目が見つかりません
err-unauthenticated = サインインしてください
err-forbidden = このページを見る権限がありません
err-not_found = 見つかりません
err-invalid_input = 入力内容に誤りがあります
err-payload_too_large = 送信された内容が大きすぎます
err-unavailable = ただいまデータベースに接続できません。しばらくしてからやり直してください
err-internal = システムエラーが発生しました
err-invalid_json = JSON の形式が正しくありません
err-unsupported_media_type = Content-Type は application/json にしてください
err-csrf = フォームの有効期限が切れました。もう一度送信してください
err-busy = ただいま混み合っています。少し待ってからもう一度お試しください
err-bad_query = 検索条件が正しくありません
err-bad_request = リクエストの形式が正しくありません
err-method_not_allowed = この操作はできません
err-date_too_late = 日付が先すぎます

# 家族のアカウントに見せるものがないときの、理由を言わない中立のページ。
neutral-title = お知らせ
neutral-body = いま表示できる内容はありません。ご不明な点はお住まいの市区町村の窓口にお問い合わせください。

# メモを誰に見せるか。書くときに選びます（既定は事務所内のみ）。
note-audience = このメモを見る人
note-for-office = 事務所内のみ（家族には見えません）
note-for-family = 家族にも見せる
note-tag-office = 事務所内
note-tag-family = 家族向け

# Errors the API answers with (each code in both languages).
err-already_joined = すでに申し込んでいます
err-area_exists = その地区はすでに登録されています
err-booking_mismatch = 予約の日付が申込みと一致しません
err-day_not_in_stay = 利用期間外の日です
err-fee_required = 減免の対象のため、確認した利用料を入力してください
err-municipality_exists = その自治体はすでに登録されています
err-no_capacity = 空きのない日があります
err-not_a_current_user = 施設を利用中の方が対象です
err-not_applied = この申込みは既に審査済みです
err-not_approved = 承認された申込みではありません
err-not_booked = 予約されていません
err-not_cancellable = この申込みは取り消せません
err-not_configured = この自治体の利用料表が設定されていません
err-not_eligible = 対象外の申込みです。保健師が理由を記入すれば申し込めます
err-not_resident = 区外へ転出したと記録されています。ご利用は、お母さんと赤ちゃんがともに区内にお住まいの日に限られます
err-override_reason_required = 対象外の申込みには理由が必要です
err-referral_changed = ほかの人が先に更新しました。もう一度確認してください
err-referral_step_not_allowed = この状態ではその対応はできません
err-slot_taken = その枠は予約済みです
err-unknown_bracket = 所得区分が正しくありません
err-unknown_service = サービスの種類が正しくありません
err-days_out_of_range = 日数を確認してください
err-babies_out_of_range = 赤ちゃんの人数を確認してください
err-too_many_siblings = 一緒に来られるきょうだいは1人までです
err-siblings_not_offered = このサービスではきょうだいを受け入れていません
err-amount_too_large = 金額が大きすぎて計算できません

# A form says what is allowed and names the fields to check (#10).
err-birth_on_or_after_pre = 出生日は
err-birth_on_or_after_post = 以降の日付を入力してください
err-birth_on_or_before_pre = 出生日は
err-birth_on_or_before_post = 以前の日付を入力してください
err-check_fields = 次の項目を確認してください：
