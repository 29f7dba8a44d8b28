### 母子手帳会議・妊娠8か月面談（集団）

nav-handbook_meetings = 母子手帳会議
nav-group_sessions = 妊娠8か月面談（集団）

hb-title = 母子手帳会議
hb-intro = その月に母子健康手帳を交付した方の一覧です。翌月の会議で地区のコーディネーターと共有します。
hb-month = 交付月
# 年度（例：令和7年度）のすぐ後に続きます。
hb-year_title = の会議
hb-year_held = 会議を記録済みの月
# 「地区 · 月」のすぐ後に続きます。
hb-list_suffix = の交付者
hb-nurse_note = 「共有不可」の方は、コーディネーターと共有できません。
hb-shared = 共有できる方
hb-coordinator_note = 情報共有に同意された方だけが表示されます。
hb-none = この月の交付者はいません。
hb-about = 備考
hb-multiple = 多胎
hb-consent = コーディネーターとの共有
hb-may_share = 共有可
hb-do_not_share = 共有不可
hb-meeting = 会議の記録
hb-held_on = 開催日
hb-contacts_done = 実施済みにした件数
hb-note_short = メモ
hb-note = メモ（会議について。個人の情報は各家庭の記録へ）
hb-record_effect = 記録すると、この一覧の方の「母子手帳会議」が実施済み（集団）になります。
hb-record = 会議を記録する
hb-recorded = 会議を記録しました。
hb-not_recorded = この月の会議はまだ記録されていません。

grp-title = 妊娠8か月面談（集団）
grp-intro = 同じ時期に出産予定で同じ地区の妊婦さんを、グループで面談します。参加できなかった方には個別面談か訪問を。
grp-due_month = 出産予定月
grp-proposals_suffix = 出産予定の方のグループ案
grp-proposals_intro = 地区ごと、出産予定日の近い順です。確定しない方のチェックを外してください。
grp-max_size = 1グループの上限
grp-none_proposed = 面談待ちの方はいません。
# 人数のすぐ後に続きます。
grp-people = 名
grp-members = 参加予定の方
grp-day = 日にち
grp-place = 会場
grp-confirm = このグループで確定する
grp-sessions = 確定した面談
grp-no_sessions = 確定した面談はありません。
grp-invited = 人数
grp-attendance = 出欠
grp-recorded = 記録済み
grp-not_recorded = 未記録
grp-session_title = 妊娠8か月面談（集団）の記録
grp-confirmed = グループを確定しました。
grp-attendance_saved = 出欠を記録しました。
grp-unseen = 情報共有に同意されていない参加者の人数
grp-who_came = 参加した方にチェック
grp-attendance_effect = 参加した方の8か月面談は実施済み（集団）になります。参加しなかった方は面談が残ります。
grp-record_attendance = 出欠を記録する
grp-attended = 参加した方
grp-absent = 参加しなかった方
grp-absent_intro = 個別面談か家庭訪問をご案内し、実施したら記録してください。
grp-offer_individual = 個別面談・訪問を記録
grp-nobody = いません。
grp-not_yet = 出欠は当日以降に記録できます。

wl-meetings = 会議・面談

err-invalid_month = 年月は 2026-10 の形で入力してください
err-meeting_too_early = その月が終わってから開催した日を入力してください
err-too_many = 人数が多すぎます
err-not_proposed = グループ案にない方が含まれています
err-duplicate = 同じ方が重複しています
err-not_a_member = この面談の参加予定者ではありません
err-meeting_recorded = この月の会議はすでに記録されています
err-already_in_session = すでに別の面談に入っている方がいます
err-member_not_eligible = 面談待ちでなくなった方がいます。もう一度表示し直してください
err-attendance_recorded = 出欠はすでに記録されています
err-session_not_held = 面談の日がまだ来ていません
err-bad_form = 送信された内容を読み取れませんでした
