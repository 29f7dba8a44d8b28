### 質問票・スクリーニング

nav-screenings = 質問票

me-screenings = 質問票に回答する

scr-title = 質問票
scr-staff_title = 質問票・スクリーニング
scr-q-epds = エジンバラ産後うつ病質問票（EPDS）
scr-q-bonding = 赤ちゃんへの気持ち質問票
scr-q-support_checklist = 育児支援チェックリスト
scr-q-notification = 妊娠届出時アンケート
scr-q-unknown = 質問票
scr-reason-epds_total_9_or_more = EPDS合計点が9点以上
scr-reason-epds_item_10_self_harm = EPDS項目10（自分を傷つける考え）が0点より高い：当日中の対応
scr-reason-bonding_total_at_cut_off = 赤ちゃんへの気持ち質問票の合計点が区分点以上
scr-reason-past_mental_health_care = 精神科・心療内科の受診歴
scr-reason-urge_to_hit_baby = 赤ちゃんをたたきたくなる気持ち
scr-reason-several_risk_answers = 支援が必要と思われる回答が複数
scr-reason-mental_illness_history = 精神疾患の既往
scr-reason-troubled_by_pregnancy = 妊娠への戸惑い
scr-reason-under_20 = 20歳未満
scr-reason-low_mood = 気分の落ち込み・興味の喪失
scr-reason-afraid_at_home = 家庭内で身の危険を感じている
scr-reason-several_concerns = 気になる回答が複数
scr-reason-unknown = （理由の記載なし）
scr-item = 質問
scr-answer = 回答
scr-answers = 回答の内容
scr-opt-yes = はい
scr-opt-no = いいえ
# 理由を並べるときの区切り。
scr-list_sep = 、
# 版の番号の前に置かれます。
scr-version = 版
scr-err-required = この質問に答えてください
scr-err-invalid_choice = 選択肢から選んでください
scr-err-unknown_item = この質問票にない質問です

err-unknown_item = この質問票にない項目です
err-questionnaire_not_offered = この質問票には今は回答できません
err-questionnaire_version_unknown = この版の質問票は見つかりません

scr-intro_family = ご家族の毎日の暮らしのために、いくつかの質問にお答えください。回答は担当の保健師が拝見します。
scr-none_for_you = いま回答をお願いしている質問票はありません。
scr-form_intro = それぞれの質問に、いまのお気持ちにいちばん近い回答を一つ選んでください。
scr-from_paper_note = 紙の質問票の回答を、そのとおりに入力してください。
scr-placeholder_note = ここに表示している質問と回答は仮の表示です。実際の運用では、自治体が使用許諾を受けた質問票の正式な文言がここに入ります。
scr-fix = 回答していない質問があります。印のついた質問をご確認ください。
scr-question_n = 質問
scr-submit = 送信する
scr-thanks_title = ご回答ありがとうございました
scr-thanks = 回答を受け付けました。担当の保健師が拝見します。
scr-help_title = いま、つらい気持ちのときは
scr-help_contact = ひとりで抱え込まないでください。自治体の担当者から、できるだけ早くご連絡します。
scr-help_emergency = 緊急のとき：119（救急）・110（警察）
scr-help_lines_title = 相談できるところ
scr-help_lines_intro = どんな回答でも、困ったときはいつでもご相談ください。
scr-back_home = わが家の記録へ戻る
scr-enter_from_paper = 紙の質問票から入力する
scr-responses = 回答の記録
scr-no_responses = 回答はまだありません。
scr-col-date = 回答日時
scr-col-questionnaire = 質問票
scr-col-total = 合計点
scr-col-result = 判定
scr-col-reasons = 理由
scr-col-entered_by = 入力
scr-col-score = 点数
scr-result-urgent = 至急（当日中に対応）
scr-result-positive = 要フォロー
scr-result-negative = 該当なし
scr-referral = 保健師への連絡
scr-recorded = 回答を記録しました。
scr-recorded_referral = 回答を記録しました。フォローが必要な結果のため、保健師への連絡を作成しました。
scr-detail_title = 質問票の回答
scr-fhir = FHIR R4 で書き出す
