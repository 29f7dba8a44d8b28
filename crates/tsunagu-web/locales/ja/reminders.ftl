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
