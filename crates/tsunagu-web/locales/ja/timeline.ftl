### 切れ目ない支援の対応リスト・連絡の記録

nav-worklist = 対応リスト

wl-title = 対応リスト
wl-intro = 期限が近いもの・過ぎたもの・未実施のままのものです。記録するまでリストに残ります。
wl-list-due_this_week = 今週が期限
wl-list-overdue = 期限超過
wl-list-missed = 未実施（期間終了）
wl-list-check_non_attendees = 3・4か月児健診 未受診
wl-list-open = 対応中すべて
wl-list-urgent = 至急・要フォロー
wl-whose = 対象
wl-whose-mine = 自分の担当
wl-whose-area = 地区
wl-whose-all = 全体
wl-area = 地区
wl-any_area = すべての地区
wl-kind = 種類
wl-any_kind = すべて
wl-sort = 並べ替え
wl-sort-due = 期限が早い順
wl-sort-due_desc = 期限が遅い順
wl-sort-closes = 期間終了が早い順
wl-sort-kind = 種類順
wl-sort-area = 地区順
wl-show = 表示
wl-none = 該当するものはありません。
wl-more = 次の50件
wl-prev = 前の50件
wl-due = 期限
wl-window = 期間
wl-closes = 期間終了
wl-missed_since = 未実施になった日
wl-record = 記録する
wl-saved = 記録しました。
wl-followups_intro = 対応中の相談・紹介をすべて、至急のものを先に表示しています。
wl-counts_label = 件数
wl-over_cap = 件以上
wl-today = 今日
wl-attempts = これまでの連絡回数

kind-notification_interview = 妊娠届出時の面接
kind-handbook_meeting = 母子手帳会議
kind-maternity_class = マタニティ教室・両親学級のご案内
kind-prenatal_self_care_class = 産前セルフケア講座のご案内
kind-eighth_month_interview = 妊娠8か月面談
kind-newborn_visit = 新生児・乳児家庭訪問
kind-happy_baby = はっぴーベビー（産後2〜3か月）
kind-postnatal_self_care_class = 産後セルフケア講座のご案内
kind-health_check_3_4_months = 3・4か月児健診
kind-postpartum_care = 産後ケア（宿泊・日帰り）の利用期間
kind-postpartum_outreach = 産後ケア（訪問）の利用期間

cstatus-upcoming = これから
cstatus-open = 期間中
cstatus-due_soon = 期限が近い
cstatus-overdue = 期限超過
cstatus-missed = 未実施
cstatus-lapsed = 利用なく終了
cstatus-done = 実施済み
cstatus-closed = 終了

form-group = 集団
form-individual = 個別
form-home_visit = 家庭訪問
form-support_room_visit = 支援室への来訪
form-at_health_check = 3・4か月児健診時

outcome-done = 実施した
outcome-not_reached = 連絡がつかなかった
outcome-declined = 辞退された
outcome-not_applicable = 対象外

ending-moved_out = 転出のため終了
ending-pregnancy_lost = 終了
ending-baby_died = 終了
ending-not_applicable = 対象外のため終了

subject-baby = 赤ちゃん

contact-title = 記録
contact-outcome = 結果
contact-form = 方法
contact-attempts = 連絡を試みた回数
contact-note = メモ（辞退・対象外のときは理由）
contact-save = 記録する
contact-source = 根拠
contact-owner = 担当
contact-recorded = 記録済み
contact-not_reached_stays = 健診・訪問は、連絡がつくまでリストに残ります。

tl-title = つながりの予定
tl-none = 予定はまだありません。
tl-own_intro = これから受けられる面談・健診・サービスです。

preg-change_edd = 出産予定日を変更
preg-new_edd = 新しい出産予定日
preg-end = 妊娠の終了・転出
preg-end_reason = 理由
preg-end-lost = 流産・死産
preg-end-moved_out = 転出
preg-end_on = 日付
preg-save = 保存
preg-updated = 妊娠の情報を更新し、予定を見直しました。

err-unchanged = 今の値と同じです
err-before_notification = 妊娠届出日より前です
err-before_birth = 出生日より前です
err-already_ended = すでに終了しています
err-pregnancy_ended = すでに終了しています
err-contact_settled = すでに記録されています
err-contact_closed = この予定は終了しています

# Where each contact's rule comes from (the contact page; the seeds named by their titles).
kind-source-notification_interview = 国の伴走型相談支援（1回目の面談）、妊娠届出時アンケート（世田谷区 産前・産後セルフケア講座）
kind-source-handbook_meeting = 母子手帳会議：母子健康手帳の交付者を毎月抽出（つくばみらい市 活動成果報告書）
kind-source-maternity_class = マタニティ教室（つくばみらい市 活動成果報告書）、両親学級（子育て世代包括支援センターの連携パターン例）
kind-source-prenatal_self_care_class = 妊娠中（安定期以降）の方（世田谷区 産前・産後セルフケア講座）
kind-source-eighth_month_interview = 妊娠8か月面談（つくばみらい市 活動成果報告書）、国の伴走型相談支援（2回目の面談）
kind-source-newborn_visit = 国の乳児家庭全戸訪問事業（生後4か月まで）、伴走型相談支援（3回目の面談）
kind-source-happy_baby = はっぴーベビー：産後2〜3か月頃（つくばみらい市 活動成果報告書）
kind-source-postnatal_self_care_class = 受講日に5か月になる前日までの赤ちゃんがいるお母さん（世田谷区 産前・産後セルフケア講座）
kind-source-health_check_3_4_months = 3・4か月児健診（集団）（つくばみらい市 活動成果報告書）、未受診者全員の状況を把握（世田谷区 産前・産後セルフケア講座）
kind-source-postpartum_care = 産後4か月未満の母子、修正月齢で計算して4か月未満（世田谷区 産後ケア事業）
kind-source-postpartum_outreach = 訪問（アウトリーチ）型：産後1年未満の母子（世田谷区 産後ケア事業）
# Staff screens (#10)
wl-applications_waiting = 審査待ちの産後ケア申請
contact-contacted_on = 実施日（連絡・訪問をした日）
err-contact_day_in_future = 実施日は今日以前の日付を入力してください
err-contact_day_before_notification = 実施日は妊娠届出日以降の日付を入力してください
