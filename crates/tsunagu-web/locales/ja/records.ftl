### 家庭の記録：検索、妊娠届出、出生

nav-search = 家庭をさがす
nav-new_notification = 妊娠届出の登録
nav-my_record = わが家の記録

search-title = 家庭をさがす
search-kana = 母の氏名（かな）
search-hint = ひらがな・カタカナ・半角・空白のちがいは区別しません
search-submit = 検索
search-none = 該当する家庭はありません。
# 件数の後に続きます。
search-count = 件

col-name = 氏名
col-kana = かな
col-birth_date = 生年月日
col-edd = 出産予定日
col-area = 地区

family-title = 家庭の記録
family-mother = 母
family-partner = パートナー
family-children = 子ども
family-pregnancies = 妊娠
family-area = 地区
family-fee_bracket = 世帯の課税区分
family-consent_coordinators = コーディネーターとの情報共有に同意
family-consent_hubs = 子育て支援拠点との情報共有に同意
family-audit_note = この記録の閲覧は監査ログに記録されます。

preg-notified_on = 届出日
preg-edd = 出産予定日
preg-foetuses = 胎児数
preg-first_child = 第1子
preg-status = 状態
preg-handbook_number = 母子健康手帳番号
preg-record_birth = 出生を記録

status-ongoing = 妊娠中
status-delivered = 出産済み
status-lost = 妊娠の終了
status-moved_out = 転出

bracket-taxed = 課税世帯
bracket-non_taxed = 非課税世帯（均等割のみ課税を含む）
bracket-public_assistance = 生活保護世帯

sex-female = 女
sex-male = 男
sex-undetermined = 未判定

notif-title = 妊娠届出の登録
notif-mother = 妊婦
notif-partner = パートナー（任意）
notif-add_partner = パートナーを登録する
notif-pregnancy = 妊娠
notif-household = 世帯と同意
notif-submit = 登録する
notif-saved = 妊娠届出を登録しました。
notif-fix = 入力内容を確認してください。何も保存されていません。

field-family_name = 氏
field-given_name = 名
field-family_name_kana = 氏（かな）
field-given_name_kana = 名（かな）
field-birth_date = 生年月日

birth-title = 出生の記録
birth-baby = 赤ちゃん
birth-birth_date = 出生日
birth-sex = 性別
birth-given_name = 名（未定なら空欄）
birth-given_name_kana = 名（かな）
birth-gestational_weeks = 在胎週数（週）
birth-gestational_days = 在胎週数（日）
birth-weight = 出生体重（g）
birth-long_hosp = 長期入院（修正月齢を使う）
birth-gestational_age = 在胎週数
birth-long_hosp_short = 長期入院
birth-submit = 記録する
birth-saved = 出生を記録しました。

me-title = わが家の記録
me-intro = 自治体に登録されている、あなたの家庭の記録です。

err-not_kana = ひらがな又はカタカナで入力してください
err-date_in_future = 未来の日付は入力できません
err-edd_too_early = 出産予定日が届出日より前すぎます
err-edd_too_late = 出産予定日が先すぎます
err-mother_too_young = 生年月日を確認してください
err-birth_before_pregnancy = 出生日が妊娠期間より前です
err-birth_too_late = 出生日が出産予定日より後すぎます
err-more_than_foetuses = 届出の胎児数より多く記録できません
err-births_too_far_apart = 多胎の出生日が離れすぎています
err-not_ongoing = この妊娠は既に終わっています
err-duplicate_notification = 同じ妊娠の届出が既に登録されています
err-handbook_number_taken = この母子健康手帳番号は既に使われています
err-pregnancy_not_ongoing = この妊娠は既に終わっています

# 家族の中で誰が何を見るか（母の共有設定と、保健師によるパートナー表示の停止）。
share-title = パートナーとの共有
share-intro = 産後ケアの申込み・利用、あなた自身についての質問票、ケアの記録は、あなたが選んだときだけパートナーのアカウントに表示されます。
share-health = 産後ケアなど私の健康に関する情報をパートナーにも見せる
share-save = 保存する
share-saved = 共有の設定を保存しました
share-partner_view = パートナーの表示
share-partner_view_intro = 止めると、パートナーのアカウントには理由を示さない中立のページだけが表示されます。パートナーには知らされません。
share-partner_view_is_on = パートナーのアカウントは、母が共有したものを見られます。
share-partner_view_is_off = パートナーのアカウントへの表示を止めています。
share-partner_view_turn_off = パートナーへの表示を止める
share-partner_view_turn_on = パートナーへの表示を再開する
share-partner_view_saved = パートナーの表示を変更しました

# The family's own page leads with what comes next, in the family's words (#10).
me-next_title = これからの予定
me-next_none = いま予定されているものはありません。
me-next_from = 受けられる時期：
me-next_from_after = から
me-next_until = 受けられる時期：
me-next_until_after = まで
me-next_about = めやすの日：
fam-when = 受けられる時期
fam-about = めやすの日
fam-status = いま
fstatus-upcoming = これから
fstatus-open = 受けられます
fstatus-due_soon = もうすぐです
fstatus-overdue = お早めに
fstatus-missed = 受けていません
fstatus-lapsed = 使わずに終わりました
fstatus-done = 済み
fstatus-closed = 終わりました
search-kanji_hint = 漢字では検索できません。ふりがな（ひらがな・カタカナ）で入力してください（例：ヤマダ ハナコ）。
# これからの予定: class bookings and postpartum stays beside the contacts (#10).
me-next_starts = から
me-next_stay = 産後ケアの利用
me-next_waiting = （キャンセル待ち）
me-next_place = 場所：
me-next_bring = 持ち物：
me-bring_class = 母子健康手帳、飲み物、タオル
me-bring_stay = 母子健康手帳、健康保険証、着替え、赤ちゃんの着替えとおむつ
# A baby without a given name yet, named by its place in its delivery (#10): ふたごの1人目.
me-baby_twin = ふたご
me-baby_triplet = みつご
me-baby_multiple = 多胎
