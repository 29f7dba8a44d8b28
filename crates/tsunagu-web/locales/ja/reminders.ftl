### リマインダー（予定のお知らせ、#10）

rem-title = 予定のお知らせ
rem-intro = 教室・講座の予約、産後ケアの利用日、日にちの決まった集団面談が近づいたら、メールでお知らせします。はじめは送りません。
rem-unavailable = この自治体では、メールでのお知らせはまだご利用いただけません。
rem-email_on = メールで知らせてほしい
rem-email = メールアドレス
rem-days_before = いつ知らせるか
rem-on_the_day = 当日
rem-days_ahead = 日前
rem-what_is_sent = メールには日付とアプリへのリンクだけが書かれます。お名前や健康のことは書かれません。
rem-save = 保存する
rem-saved = お知らせの設定を保存しました
rem-link = 予定のお知らせ（メール）を設定する
err-invalid_email = メールアドレスの形になっていません（例：hanako@example.jp）
# Web push (#10)
rem-push_title = スマートフォンへの通知
rem-push_intro = このブラウザに通知を送ります。メールと同じ日に届きます。
rem-push_on = このブラウザに通知してほしい
rem-push_is_on = このブラウザには通知が届きます。
rem-push_is_off = このブラウザには通知は届きません。
rem-push_denied = ブラウザの設定で通知が止められています。ブラウザの設定から通知を許可してください。
rem-push_failed = 通知の設定を変更できませんでした。時間をおいてもう一度お試しください。
rem-push_unsupported = このブラウザでは通知を受け取れません。メールでのお知らせをご利用ください。
rem-push_unavailable = この自治体では、通知でのお知らせはまだご利用いただけません。
rem-push_what_is_sent = 通知には日付だけが表示されます。お名前や健康のことは表示されません。
err-invalid_endpoint = 通知の送り先が正しくありません
err-invalid_key = 通知の鍵が正しくありません
err-push_unavailable = この自治体では、通知でのお知らせはまだご利用いただけません
err-unknown_op = 操作が正しくありません
