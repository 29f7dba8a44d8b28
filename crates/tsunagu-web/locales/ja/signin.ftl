### サインイン・二要素認証

signin-title = サインイン
signin-municipality = 自治体
signin-username = ユーザー名
signin-password = パスワード
signin-submit = サインイン

totp-title = 確認コード
totp-intro = 認証アプリに表示されている6桁のコードを入力してください。
totp-code = 確認コード（6桁）
totp-submit = 確認

enrol-title = 二要素認証の設定
enrol-intro = 職員アカウントには二要素認証が必要です。認証アプリに次の秘密鍵を登録し、表示されたコードを入力してください。
enrol-secret = 秘密鍵
enrol-uri = 登録用URI

err-too_many_attempts = 試行回数が多すぎます。しばらくしてからやり直してください
err-invalid_credentials = 自治体・ユーザー名・パスワードのいずれかが違います
err-bad_municipality_code = 自治体コードは6桁の数字（検査数字を含む）で入力してください
err-otp_required = 確認コードが必要です
err-invalid_otp = 確認コードが違います
err-code_locked = 確認コードの誤りが続いたため、このアカウントのサインインを一時的に止めています。しばらくは正しいコードでも受け付けません
err-too_many_codes = 確認コードの誤りが続いたため、このサインインを終了しました。もう一度パスワードからサインインしてください

# 「約 N 分後に…」の「約」。N の前に置かれます。
signin-retry_before = 約
# 「約 N 分後に…」の N の後の部分。
signin-retry_after = 分後にもう一度お試しください。

