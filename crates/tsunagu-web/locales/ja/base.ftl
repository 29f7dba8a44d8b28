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
