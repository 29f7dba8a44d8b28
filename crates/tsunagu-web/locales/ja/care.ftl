### 気になる家庭の連絡・オンライン相談・地域の情報紹介・事故等の報告

nav-referrals = 連絡・フォロー

ref-title = 気になる家庭の連絡
ref-detail_title = 連絡の内容
ref-intro_nurse = 各職種からの連絡です。至急のものが上に出ます。
ref-intro_raiser = あなたが伝えた連絡の対応状況です。
ref-none = 連絡はありません。
ref-raised_at = 連絡日時
ref-raised_by = 連絡した職種
ref-urgent = 至急
ref-urgent_today = 至急（今日中に対応が必要）
ref-note = 気になったこと
ref-raise = 気になることを保健師に伝える
ref-alert = 保健師・ケースワーカーへの連絡
ref-send = 伝える
ref-raised = 保健師に伝えました。対応状況はここと「連絡・フォロー」で確認できます。
ref-note_required = 気になったことを書いてください。
ref-escalated = ケースワーカーへ引継ぎ
ref-sem = 特定妊婦
ref-actions = 対応
ref-history = 経過
ref-close_reason = 終了の理由
ref-status-raised = 未確認
ref-status-received = 受付済み
ref-status-in_progress = 対応中
ref-status-closed = 終了
ref-act-raise = 連絡
ref-act-receive = 受け付ける
ref-act-start = 対応を始める
ref-act-escalate = ケースワーカーへ引き継ぐ
ref-act-mark_specified_expectant_mother = 特定妊婦とする
ref-act-clear_specified_expectant_mother = 特定妊婦を解除する
ref-act-close = 終了する
ref-close-resolved = 対応済み
ref-close-no_concern = 心配なし
ref-close-duplicate = 重複
ref-close-moved_out = 転出
ref-why-referral_changed = ほかの人が先に更新しました。もう一度確認してください。
ref-why-referral_step_not_allowed = この状態ではその対応はできません

fu-title = オンライン相談（20分）
fu-intro = 産後ケアを利用した方は、赤ちゃんが1歳になるまで施設の助産師にオンラインで相談できます。
fu-none_offered = 利用した施設がないため、予約できる相談はありません。
fu-no_slots = 4週間以内に予約できる枠はありません。
fu-bookings = 予約
fu-no_bookings = 予約はありません。
fu-count = 今年度の相談件数

talk-title = 地域の子育て情報の紹介（オンライン）
talk-intro = 産後ケアセンター利用中の母子向けに、地域子育て支援コーディネーターがおでかけ先などを紹介します（月2回程度・30分）。
talk-none = 予定はありません。
# 人数のすぐ後に続きます。
talk-people = 組
talk-join = 参加する
talk-new = 回を追加
talk-starts = 開始日時
talk-topic = 内容
talk-create = 追加する

inc-title = 事故等の報告
inc-heading = 区分（安全管理マニュアル）
inc-occurred = 発生日時
inc-summary = 概要
inc-report = 報告する
inc-none = 今年度の報告はありません。

ref-source = きっかけ
ref-source-observation = 気づき
ref-source-screening = スクリーニング
ref-source-chat_escalation = チャットから
