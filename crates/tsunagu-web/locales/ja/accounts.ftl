### アカウント管理・役割・監査ログ

nav-accounts = アカウント管理
nav-audit = 監査ログ

accounts-title = アカウント管理
accounts-create = アカウントを作成
accounts-username = ユーザー名
accounts-display_name = 表示名
accounts-role = 役割
accounts-password = 初期パスワード（12文字以上）
accounts-new_password = 新しいパスワード
accounts-areas = 担当地区
accounts-venues = 担当施設
accounts-family_id = 家庭番号（家族アカウントのみ）
accounts-disable = 無効にする
accounts-enable = 有効にする
accounts-reset_password = パスワード再設定
accounts-reset_totp = 二要素認証を再設定
accounts-state = 状態
accounts-disabled = 無効
accounts-active = 有効
accounts-totp = 二要素認証
accounts-totp_on = 設定済み
accounts-totp_off = 未設定
accounts-created = アカウントを作成しました。
accounts-updated = アカウントを更新しました。

role-family_member = 家族
role-nurse = 保健師
role-coordinator = コーディネーター
role-facility_staff = 産後ケア施設職員
role-programme_staff = 講座スタッフ
role-peer_supporter = 応援団（ピアサポーター）
role-caseworker = ケースワーカー
role-admin = 自治体管理者
role-analyst = 集計担当
role-chat_parent = チャット利用者（保護者）

audit-title = 監査ログ
audit-intro = 職員による個人記録の閲覧・変更はすべて記録され、編集・削除はできません。
audit-at = 日時
audit-actor = アカウント番号
audit-role = 役割
audit-action = 操作
audit-family = 家庭番号
audit-detail = 詳細
audit-reason = 理由
audit-addr = 接続元
audit-filter = 絞り込み
audit-any = すべて

err-password_too_short = パスワードは12文字以上にしてください
err-password_too_long = パスワードが長すぎます
err-password_too_common = よく使われるパスワードは使えません
err-username_taken = このユーザー名は既に使われています
err-scope_required = この役割には担当範囲が必要です
err-last_administrator = 最後の有効な管理者アカウントは無効にできません。先に別の管理者アカウントを作成してください
err-family_required = 家族アカウントには家庭番号が必要です

accounts-family_relation = 家族の中の立場（家族アカウントのみ）
accounts-relation-mother = 母（健康に関する情報を共有するかを決める人）
accounts-relation-partner = パートナー（母が共有したものを見る）
err-mother_account_exists = この家庭には母のアカウントが既にあります

# Staff screens (#10): destructive actions are confirmed
accounts-confirm_disable = このアカウントを無効にします。サインイン中のセッションも終了します。よろしいですか？
accounts-disable_confirm = 無効化を確定する
accounts-confirm_reset_totp = 2段階認証をリセットします。本人は次のサインインで登録し直します。よろしいですか？
accounts-reset_totp_confirm = リセットを確定する
# The audit log page (#10)
audit-name = アカウント
audit-from = 期間（から）
audit-to = 期間（まで）
audit-csv = CSVでダウンロード
audit-csv_note = 絞り込んだ条件で、新しい順に最大20,000行。ダウンロードも監査ログに記録されます。
audit-none = 該当する記録はありません
audit-older = さらに古い記録
audit-newest = 最新の記録へ
