"""Citation normalisation and the grounding checks that turn unsupported answers into refusals."""

from __future__ import annotations

from rag.cite import (
    REFUSAL,
    cited_numbers,
    drop_invalid_citations,
    ground,
    is_model_refusal,
    missing_terms,
    normalize_citations,
    unsupported_numbers,
    unsupported_places,
)
from rag.select import ContextPassage
from rag.types import Chunk, DocMeta, Passage

SRC = "力争到2025年,寿光市gdp完成1100亿元以上,青州市达到800亿元左右。"


def _ctx(text: str = SRC, n: int = 1) -> list[ContextPassage]:
    chunk = Chunk("d:1", "d.txt", text, "", 0, len(text), "潍坊方案")
    return [ContextPassage(n, Passage(chunk, n, 1.0, meta=DocMeta(title="潍坊方案")), [text])]


def test_normalize_citations():
    assert normalize_citations("答案【1】和[1, 2]以及[3、4]") == "答案[1]和[1][2]以及[3][4]"
    assert cited_numbers("a[2]b[1][2]") == [2, 1]
    assert drop_invalid_citations("a[1][7]", {1}) == "a[1]"


def test_numbers_checked_against_sources():
    assert unsupported_numbers("寿光市目标是1100亿元以上[1]", SRC) == []
    assert unsupported_numbers("Shouguang targets 110 billion yuan [1]", SRC) == []  # 1100亿 = 110 billion
    assert unsupported_numbers("青岛市目标是900亿元[1]", SRC) == ["900亿"]
    assert unsupported_numbers("到2030年", SRC) == ["2030"]  # the question's year is no evidence


def test_question_terms_must_be_in_sources():
    assert missing_terms("青岛市2025年的GDP目标是多少？", SRC) == ["青岛市"]
    assert missing_terms("寿光2025年的GDP目标", SRC) == []
    assert missing_terms("寿光市2030年的GDP目标", SRC) == ["2030"]


def test_ground_accepts_supported_answer_and_adds_missing_citation():
    g = ground("寿光市2025年GDP目标是1100亿元以上。", _ctx(), "zh-Hans")
    assert not g.refused and g.answer.endswith("[1]")


def test_ground_refuses_invented_figure_and_model_refusal():
    assert ground("青州市目标是900亿元[1]", _ctx(), "zh-Hans").refused
    g = ground("资料中未提及。", _ctx(), "zh-Hant")
    assert g.refused and g.answer == REFUSAL["zh-Hant"]
    assert is_model_refusal("The documents do not mention Qingdao.")
    assert not is_model_refusal("寿光市目标是1100亿元以上[1]")


def test_ground_drops_invalid_citation_numbers():
    g = ground("寿光市目标是1100亿元以上[1][5]", _ctx(), "zh-Hans")
    assert g.answer == "寿光市目标是1100亿元以上[1]"


def test_yi_rendered_as_billion_is_corrected():
    from rag.cite import fix_yi_as_billion

    assert fix_yi_as_billion("The target is 1100 billion yuan [1].", SRC) == "The target is 110 billion yuan [1]."
    assert fix_yi_as_billion("The target is 110 billion yuan [1].", SRC) == "The target is 110 billion yuan [1]."


def _ctx_texts(*texts, docs=None):
    from rag.select import ContextPassage
    from rag.types import Chunk, Passage

    return [
        ContextPassage(
            n=n,
            passage=Passage(
                chunk=Chunk(id=str(n), doc_id=docs[n - 1] if docs else "d", text=t, heading="", start=0, end=1),
                rank=n,
                score=1.0,
            ),
            sentences=[t],
            with_meta=False,
        )
        for n, t in enumerate(texts, 1)
    ]


def test_recite_points_a_figure_at_the_passage_that_holds_it():
    from rag.cite import recite

    ctx = _ctx_texts(
        "临沂市计划评审认定35家市级创新平台。平邑县荣获守牢发展和安全底线专项评价先进县",
        "潍坊每年新建市级科技创新平台30家以上。",
    )
    assert recite("临沂计划评审认定35家市级创新平台。[2]", ctx) == "临沂计划评审认定35家市级创新平台。[1]"
    assert recite("[2]平邑县荣获“守牢发展和安全底线专项评价先进县”。", ctx).startswith("[1]")
    assert recite("Linyi will certify 35 platforms [2]. Weifang builds 30 a year [2].", ctx) == (
        "Linyi will certify 35 platforms [1]. Weifang builds 30 a year [2]."
    )
    # a right citation stays
    assert recite("潍坊每年新建市级科技创新平台30家以上[2]。", ctx) == "潍坊每年新建市级科技创新平台30家以上[2]。"


def test_partial_answer_is_not_a_refusal():
    from rag.cite import is_model_refusal

    assert not is_model_refusal("潍坊：7000亿元[1]；衢州：资料中未提及")
    assert is_model_refusal("资料中未提及青岛市2025年的目标。")


def test_wan_rendered_as_million_is_corrected():
    from rag.cite import fix_yi_as_billion

    src = "全市累计开设碳账户234.2万个。"
    assert (
        fix_yi_as_billion("There are 234.2 million carbon accounts [1].", src)
        == "There are 2.342 million carbon accounts [1]."
    )


def test_uncited_answer_is_cited_before_the_year_check():
    # The model wrote no [n]; the 2026 in passage 2 must not vouch for an answer drawn from passage 1.
    ctx = _ctx_texts("潍坊力争到2025年县域地区生产总值突破7000亿元。", "衢州到2026年全市常住人口达到100万人。")
    g = ground("潍坊2026年的目标是县域地区生产总值突破7000亿元。", ctx, "zh-Hans", "潍坊2026年县域经济的目标是什么？")
    assert g.refused and "2026" in g.reason


def test_uncited_sentences_cite_the_passages_holding_their_figures():
    from rag.cite import cite_uncited

    ctx = _ctx_texts("全省培育国家级中小企业特色产业集群15家。", "潍坊力争培育中小企业特色产业集群9个左右。")
    both = "全省有15家国家级集群，潍坊要培育9个集群。"  # 山东 would be in no passage (claim_places)
    assert cite_uncited(both, ctx) == both + "[1][2]"
    assert cite_uncited("全省有15家。潍坊要培育9个", ctx) == "全省有15家。[1]潍坊要培育9个[2]"
    g = ground(both, ctx, "zh-Hans", "山东全省有几家国家级集群？潍坊要培育几个？")
    assert not g.refused and g.answer.endswith("[1][2]")


def test_wan_kilowatt_rendered_as_megawatt_is_corrected():
    from rag.cite import fix_wan_kilowatt

    src = "全市光伏并网装机容量204.22万千瓦。到2025年,县域分布式光伏装机达到400万千瓦以上。"
    assert fix_wan_kilowatt("Quzhou has 204.22 MW connected [1].", src) == "Quzhou has 204.22万千瓦 connected [1]."
    assert fix_wan_kilowatt("The target is 400 kW [1].", src) == "The target is 400万千瓦 [1]."
    assert not ground("Quzhou has 204.22 MW connected [1].", _ctx_texts(src), "en").refused
    assert fix_wan_kilowatt("A 30 MW plant [1].", src) == "A 30 MW plant [1]."  # not a figure of the sources


def test_list_item_numbers_are_not_figures():
    from rag.cite import strip_list_markers

    assert strip_list_markers("1. 数字赋能 2. 创新引领\n（3）企业培育") == "数字赋能 创新引领\n企业培育"
    assert strip_list_markers("全市。5个县市增长6.8%，达到1.5亿") == "全市。5个县市增长6.8%，达到1.5亿"
    ctx = _ctx_texts("重点抓好集群数字赋能、创新引领、企业培育三方面工作。")
    assert not ground("1. 数字赋能 2. 创新引领 3. 企业培育[1]", ctx, "zh-Hans").refused
    # a bracketed item number after a title is an item too; a bracketed figure with a unit is still a figure
    assert not ground("《方案》（4）企业培育[1]", ctx, "zh-Hans").refused
    assert ground("企业培育（12个）[1]", ctx, "zh-Hans").refused
    assert ground("共（12）家企业参与培育[1]", ctx, "zh-Hans").refused  # counted by what follows: a figure


def test_uncited_figure_is_cited_to_the_passage_about_the_question():
    from rag.cite import cite_uncited

    ctx = _ctx_texts("京张铁路于1909年建成。", "广三铁路全长49公里,于1903年建成通车。", "另一条铁路1903年开工。")
    assert cite_uncited("1903年", ctx, "广三铁路在哪年建成？") == "1903年[2]"
    assert not ground("1903年", ctx, "zh-Hans", "广三铁路在哪年建成？").refused
    # a figure written in Chinese numerals is found in a passage that writes it either way
    ctx = _ctx_texts("自收到申请之日起三十日内作出决定。", "受理机关应当在受理后依法审查，受理机关作出决定。")
    assert cite_uncited("三十天", ctx, "受理机关应当在受理后多少天内作出决定？") == "三十天[1]"
    ctx = _ctx_texts("第二十条　申请人应当在收到通知后30日内补正。", "申请人补正材料，审查机关作出决定。")
    assert cite_uncited("三十日内补正", ctx, "申请人多少日内补正？") == "三十日内补正[1]"


def test_a_lone_figure_is_cited_and_an_answer_citing_nothing_is_refused():
    from rag.cite import cite_uncited

    # made-up text: a one-character answer gets the passage that states its figure, in either writing
    ctx = _ctx_texts("这座古桥始建于明代。", "这位画家一生共收了五位弟子，其中两位成名。")
    assert cite_uncited("5", ctx, "这位画家一生收了几位弟子？") == "5[2]"
    g = ground("5", ctx, "zh-Hans", "这位画家一生收了几位弟子？")
    assert not g.refused and g.answer == "5位[2]"  # with the unit its passage gives it (add_units)
    assert ground("五", ctx, "zh-Hans", "这位画家一生收了几位弟子？").answer == "五[2]"
    # one character that is no figure can be tied to no passage: refused, and the check says why
    g = ground("桥", ctx, "zh-Hans", "这座古桥建于什么朝代？")
    assert g.refused and g.reason == "the answer cites no passage"
    assert [c.name for c in g.checks if c.result == "fail"] == ["citations"]
    # an ordinary answer is cited as before
    assert not ground("明代", ctx, "zh-Hans", "这座古桥建于什么朝代？").refused


def test_uncited_phrase_both_documents_hold_cites_both():
    from rag.cite import cite_uncited

    ctx = _ctx_texts(
        "全省建立省级统筹、市负主责、县抓落实的工作机制。",
        "潍坊市健全省级统筹、市负主责、县抓落实的县域经济工作机制。",
        "衢州加快数字化改革。",
        docs=["sd", "wf", "qz"],
    )
    q = "省里的意见和潍坊的方案都强调了哪个县域经济工作机制？"
    ans = "都强调了“省级统筹、市负主责、县抓落实”的工作机制。"
    assert cite_uncited(ans, ctx, q) == ans + "[1][2]"
    assert not ground(ans, ctx, "zh-Hans", q).refused
    # a short shared span ("衢州加快") does not make a second source
    assert cite_uncited("衢州加快改革。", ctx, "衢州做什么？") == "衢州加快改革。[3]"


def test_a_cited_statement_after_a_contrast_is_not_a_refusal():
    # Text of no particular corpus: a notice that names no deadline but does say what to do.
    assert not is_model_refusal("该通知没有明确具体时限，但要求各乡镇尽快落实[1]。")
    assert not is_model_refusal("The notice does not specify a deadline, but it asks townships to act soon [2].")
    assert is_model_refusal("资料中未提及。")
    assert is_model_refusal("The documents do not mention this.")
    assert is_model_refusal(
        "没有明确规定，但资料中未提及具体内容。"
    )  # a contrast with nothing cited is still a refusal


def test_citations_that_hold_nothing_of_the_sentence_are_dropped():
    """Made-up passages: a sentence drawn from [1] but cited [1][2][3]; [2] holds its figure too, [3] nothing."""
    from rag.cite import prune_citations

    texts = [
        "全县新建污水管网120公里，改造老旧小区35个。",
        "污水处理能力达到每日3万吨，管网120公里全部完成验收。",
        "图书馆全年接待读者8万人次，举办讲座40场。",
    ]
    context = []
    for n, text in enumerate(texts, 1):
        chunk = Chunk(f"d:{n}", "d.txt", text, "", 0, len(text), "某县年度报告")
        context.append(ContextPassage(n, Passage(chunk, n, 1.0, meta=DocMeta(title="某县年度报告")), [text]))
    assert prune_citations("全县新建污水管网120公里[1][2][3]。", context) == "全县新建污水管网120公里[1][2]。"
    # A sentence with one citation, or whose passages all hold it, is left as written.
    assert prune_citations("改造老旧小区35个[1]。", context) == "改造老旧小区35个[1]。"
    both = "管网120公里[1][2]。"
    assert prune_citations(both, context) == both


def test_each_sentence_is_held_to_the_passages_it_cites():
    """A figure of one passage does not vouch for a sentence that cites another (claim-level support)."""
    ctx = _ctx_texts("甲镇到2030年建成污水处理厂3座。", "乙镇新建公园12个，绿地面积达到40公顷。")
    ok = "甲镇到2030年建成污水处理厂3座。[1]乙镇新建公园12个。[2]"
    assert not ground(ok, ctx, "zh-Hans", "两镇的建设目标是什么？").refused
    wrong_year = "甲镇到2030年建成污水处理厂3座[1]，乙镇到2030年新建公园12个。[2]"
    g = ground(wrong_year, ctx, "zh-Hans", "两镇的建设目标是什么？")
    assert g.refused and "2030" in g.reason
    # A sentence citing nothing is held to every passage shown.
    assert not ground("乙镇绿地面积达到40公顷。", ctx, "zh-Hans", "乙镇绿地面积多少？").refused


def test_a_sentence_with_an_unsupported_figure_is_dropped_and_the_rest_stands():
    ctx = _ctx_texts("甲镇到2030年建成污水处理厂3座。", "乙镇新建公园12个，绿地面积达到40公顷。")
    g = ground("甲镇建成污水处理厂3座。[1]乙镇新建公园15个。[2]", ctx, "zh-Hans", "两镇的建设目标是什么？")
    assert not g.refused and g.answer == "甲镇建成污水处理厂3座。[1]"
    assert any(c.name == "claim_figures" and c.result == "repaired" and "15" in c.detail for c in g.checks)
    # Nothing supported left: the refusal, as before.
    assert ground("乙镇新建公园15个。[2]", ctx, "zh-Hans", "乙镇新建多少公园？").refused
    # Switched off (ablation), any unsupported figure refuses the whole answer.
    off = ground("甲镇建成污水处理厂3座。[1]乙镇新建公园15个。[2]", ctx, "zh-Hans", "", frozenset({"drop_unsupported"}))
    assert off.refused


def test_recite_credits_a_passage_with_its_header():
    """A figure the model copied from a passage's title stays cited to that passage (the figure check reads the
    header too), even when another document repeats the sentence with more shared words."""
    from rag.cite import recite

    def passage(n: int, title: str, text: str) -> ContextPassage:
        chunk = Chunk(f"d{n}:1", f"d{n}.txt", text, "", 0, len(text), title)
        return ContextPassage(n, Passage(chunk, n, 1.0, meta=DocMeta(title=title)), [text])

    ctx = [
        passage(1, "河阳县出台12条措施", "开展苗木行动，扶持家庭农场。"),
        passage(2, "河阳县农业农村局答问", "开展苗木行动，扶持家庭农场。" * 3 + "培育合作社。"),
    ]
    answer = "河阳县出台12条措施：开展苗木行动，扶持家庭农场[1]。"
    assert recite(answer, ctx) == answer
    assert not ground(answer, ctx, "zh-Hans").refused
    # without the title's figure, the passage holding clearly more of the sentence takes the citation
    ctx[1] = passage(2, "河阳县农业农村局答问", "开展苗木行动。培育合作社，建设冷链仓储，发展农村电商。")
    moved = recite("培育合作社，建设冷链仓储，发展农村电商[1]。", ctx)
    assert moved == "培育合作社，建设冷链仓储，发展农村电商[2]。"


def test_recite_reads_a_figure_in_either_notation_and_as_a_whole_number():
    """Laws write 二人 and 三十日; answers write either. A figure is held only as a whole number (20 is not the
    20 of 2023), and the passage holding the sentence's figure takes the citation from one sharing more words."""
    from rag.cite import recite

    ctx = _ctx_texts("第九条　检查人员不得少于二人，并应当出示证件。", "检查人员应当依法检查，检查人员对检查情况保密。")
    assert recite("检查人员不得少于2人[2]。", ctx) == "检查人员不得少于2人[1]。"
    assert recite("检查人员不得少于二人[1]。", ctx) == "检查人员不得少于二人[1]。"
    ctx = _ctx_texts("河阳县出台20条措施。", "2023年，河阳县出台支持措施，扶持家庭农场。")
    assert recite("河阳县出台20条支持措施，扶持家庭农场[2]。", ctx) == "河阳县出台20条支持措施，扶持家庭农场[1]。"
    # a figure both passages hold leaves the words to decide, and a sentence with no figure too
    ctx = _ctx_texts("河阳县出台20条措施。", "河阳县出台20条支持措施，扶持家庭农场。")
    assert recite("河阳县出台20条支持措施，扶持家庭农场[2]。", ctx) == "河阳县出台20条支持措施，扶持家庭农场[2]。"


def test_numerals_inside_words_and_item_markers_are_not_figures():
    """一是, 统一 and 十分 are no figures: an answer in the 一是…二是 style keeps the passage that says it; a
    figure in digits counts once beside one written in Chinese numerals."""
    from rag.cite import cite_uncited, figures_of, recite

    assert figures_of("一是加强河道巡查，统一部署，十分重要") == []
    ctx = _ctx_texts("2023年1月，县政府召开会议。", "加强河道巡查，完善保洁制度。")
    said = "一是加强河道巡查，二是完善保洁制度[2]。"
    assert recite(said, ctx) == said
    assert cite_uncited("一是加强河道巡查。", ctx) == "一是加强河道巡查。[2]"
    ctx = _ctx_texts("2023年工作要点。", "检查人员不得少于二人。")
    mixed = "2023年起，检查人员不得少于二人[2]。"
    assert recite(mixed, ctx) == mixed


def test_recite_is_not_swayed_by_a_passage_repeating_a_few_words():
    """A long passage that says the question's words many times does not hold the sentence better than the short
    one that says it once: what counts is how much of the sentence a passage holds."""
    from rag.cite import recite

    said = "监督机构审查申请材料，应当征求有关部门意见。"
    repeats = "监督机构依法审查。监督机构审查时，申请人应当配合监督机构审查，监督机构审查材料，监督机构保密。"
    ctx = _ctx_texts(said, repeats)
    assert recite(f"{said[:-1]}[2]。", ctx) == f"{said[:-1]}[1]。"
    assert recite(f"{said[:-1]}[1]。", ctx) == f"{said[:-1]}[1]。"


def test_an_answer_citing_only_passages_of_other_years_is_refused():
    """Made-up passages: asked about 2020, the cited passage speaks only of 2021 (a same-topic passage of the
    wrong year); the check refuses it (the streaming side is in test_release.py)."""
    ctx = _ctx_texts("2021年度，清河县粮食总产量达到52万吨，比上年增长3%。", "2020年，清河县新建高标准农田8万亩。")
    g = ground("52万吨[1]", ctx, "zh-Hans", "2020年清河县粮食总产量是多少？")
    assert g.refused and any(c.name == "claim_year" and c.result == "fail" for c in g.checks)
    # Switched off (ablation), the figure check alone passes it: the figure is in [1].
    assert not ground("52万吨[1]", ctx, "zh-Hans", "2020年清河县粮食总产量是多少？", frozenset({"claim_year"})).refused


def test_the_year_check_passes_ordinary_answers():
    """False positives: a passage that names no year (news of the day), one that names the asked year among
    others, the year in the title, and a question about two years answered for one of them."""
    no_year = _ctx_texts("清河县粮食总产量达到52万吨，比上年增长3%。")
    assert not ground("52万吨[1]", no_year, "zh-Hans", "2020年清河县粮食总产量是多少？").refused
    both = _ctx_texts("2020年粮食总产量52万吨，较2015年增长一成。")
    assert not ground("52万吨[1]", both, "zh-Hans", "2020年清河县粮食总产量是多少？").refused
    chunk = Chunk("t:1", "t.txt", "全年粮食总产量52万吨，2019年为50万吨。", "", 0, 20, "清河县2020年统计公报")
    titled = [ContextPassage(1, Passage(chunk, 1, 1.0, meta=DocMeta(title="清河县2020年统计公报")), [chunk.text])]
    assert not ground("52万吨[1]", titled, "zh-Hans", "2020年清河县粮食总产量是多少？").refused
    two = _ctx_texts("2021年粮食总产量54万吨。")
    assert not ground("2021年为54万吨[1]", two, "zh-Hans", "2020年和2021年粮食总产量各是多少？").refused
    assert not ground("54万吨[1]", two, "zh-Hans", "粮食总产量是多少？").refused  # no year asked


def test_a_bare_figure_gets_the_unit_its_passage_gives_it():
    """Made-up passages: the model drops the unit ("6.05[1]"); the answer gets the passage's own unit."""
    from rag.cite import add_units

    ctx = _ctx_texts("全年外贸进出口总额6.05万亿美元，同比增长21.4%。", "清河县共有中小学38所，在校学生2.1万人。")
    assert add_units("6.05[1]", ctx) == "6.05万亿美元[1]"
    assert add_units("同比增长21.4，共有中小学38。[1][2]", ctx) == "同比增长21.4%，共有中小学38所。[1][2]"
    g = ground("外贸总额6.05[1]", ctx, "zh-Hans", "外贸进出口总额是多少？")
    assert not g.refused and g.answer == "外贸总额6.05万亿美元[1]"
    assert any(c.name == "claim_figures" and c.result == "pass" for c in g.checks)


def test_units_are_added_only_where_the_passage_is_unambiguous():
    """False positives: a figure with its unit, a figure the passage states with two units or none, a figure
    inside a name, a list number, an English answer, and a figure of an uncited passage stay as written."""
    from rag.cite import add_units

    ctx = _ctx_texts(
        "新建厂房13座，其中13个已投产；发布iPhone 13手机。1. 建设冷库2个",
        "全县有村庄120个。",
    )
    for answer in (
        "新建厂房13座[1]",  # has its unit
        "共13[1]",  # 13座 and 13个: which one is not known
        "发布了iPhone 13[1]",  # part of a name
        "1. 建设冷库[1]",  # a list number
        "村庄120[1]",  # cites [1], which does not hold 120
    ):
        assert add_units(answer, ctx) == answer
    assert add_units("建设冷库2[1]", ctx) == "建设冷库2个[1]"
    en = "There are 120 villages [2]."
    assert ground(en, ctx, "en", "How many villages?").answer == en  # English answers keep their own units
    assert add_units("全县120[2]", ctx) == "全县120个[2]"
    # an ordinal gives no unit (第5名 is a rank: "5名" reads as five people); a word that merely starts with a
    # measure word's character (本市) is no unit; a quarter is 季度, not 季 (review cases)
    ctx = _ctx_texts("2024年3季度增长最快，到2025本市将建成。获得第5名。")
    assert add_units("5[1]", ctx) == "5[1]"
    assert add_units("到2025[1]", ctx) == "到2025[1]"
    assert add_units("3[1]", ctx) == "3季度[1]"


def test_units_are_not_added_inside_ranges_times_or_longer_numbers():
    from rag.cite import add_units

    ctx = _ctx_texts("2022年完成投资1000万元，工期3个月，10时开工，已有5 万亩。")
    for answer in ("2022-2025年[1]", "10:30开工[1]", "投资1,000[1]", "已有5 万亩[1]", "3、5个[1]"):
        assert add_units(answer, ctx) == answer
    assert add_units("投资1000[1]", ctx) == "投资1000万元[1]"
    assert add_units("已有5[1]", ctx) == "已有5万亩[1]"  # the passage's unit after a space


def test_a_question_naming_the_documents_own_year_is_not_a_wrong_year():
    """A made-up law amended in 2024 whose article says it takes effect in 2025: asked about "the 2024
    amendment", the answer citing that article is about the asked document (its dates count)."""
    text = "第四十条　本法自2025年1月1日起施行。"
    meta = DocMeta(title="中华人民共和国河道养护法", amended=["2024-06-28"], effective="2025-01-01")
    chunk = Chunk("law:40", "law.txt", text, "第五章 附则 > 第四十条", 0, len(text), meta.title)
    ctx = [ContextPassage(1, Passage(chunk, 1, 1.0, meta=meta), [text])]
    assert not ground("2025年1月1日[1]", ctx, "zh-Hans", "2024年修订的河道养护法何时施行？").refused
    bare = [ContextPassage(1, Passage(chunk, 1, 1.0, meta=DocMeta(title=meta.title)), [text])]
    assert ground("2025年1月1日[1]", bare, "zh-Hans", "2024年修订的河道养护法何时施行？").refused


def test_a_place_of_a_claim_must_be_in_the_passage_it_cites():
    """Made-up towns of two regions: the claim names the place listed in another passage, or one in no passage."""
    ctx = _ctx_texts("丽江市重点发展文化旅游，鄂尔多斯市重点发展能源化工。", "呼和浩特市建设乳业之都。")
    q = "丽江市重点发展什么产业？"
    right = ground("丽江市重点发展文化旅游[1]。", ctx, "zh-Hans", q)
    assert not right.refused and any(c.name == "claim_places" and c.result == "pass" for c in right.checks)
    # 丽江 without its suffix, and a traditional-script answer, name the same place
    assert not ground("麗江重點發展文化旅遊[1]。", ctx, "zh-Hant", q).refused
    # a place only in the question, or only in the other passage, is no support
    assert ground("昆明市重点发展文化旅游[1]。", ctx, "zh-Hans", "昆明市重点发展什么产业？").refused
    wrong = ground("呼和浩特市重点发展能源化工[1]。", ctx, "zh-Hans", "呼和浩特市重点发展什么？")
    assert wrong.refused and "呼和浩特" in wrong.reason
    # the unsupported sentence goes, the supported one stands
    g = ground("丽江市重点发展文化旅游[1]。昆明市也发展文化旅游[1]。", ctx, "zh-Hans", q)
    assert not g.refused and g.answer == "丽江市重点发展文化旅游[1]。"
    assert any(c.name == "claim_places" and c.result == "repaired" and "昆明" in c.detail for c in g.checks)
    # switched off (ablation), the place is not read
    assert not ground("昆明市重点发展文化旅游[1]。", ctx, "zh-Hans", q, frozenset({"claim_places"})).refused


def test_an_english_place_is_read_back_to_the_passage_s_chinese():
    ctx = _ctx_texts("丽江市重点发展文化旅游，鄂尔多斯市重点发展能源化工。", "保山市建设咖啡之都。")
    q = "What does Lijiang focus on?"
    assert not ground("Lijiang focuses on cultural tourism [1].", ctx, "en", q).refused
    g = ground("Baoshan focuses on cultural tourism [1].", ctx, "en", "What does Baoshan focus on?")
    assert g.refused and "保山" in g.reason
    # cited right, it stands
    assert not ground("Baoshan is building a coffee capital [2].", ctx, "en", "What does Baoshan build?").refused


def test_the_place_check_does_not_fire_on_ordinary_answers():
    """Laws and notices: no place, a country's name in the header, English words that are no pinyin place."""
    law = _ctx_texts("第十条 本法自公布之日起施行。", "第十一条 国务院有关部门负责监督管理工作。")
    law[0].passage.meta.title = "中华人民共和国道路养护法"
    assert not ground("本法自公布之日起施行[1]。", law, "zh-Hans", "本法何时施行？").refused
    assert not ground("《中华人民共和国道路养护法》自公布之日起施行[1]。", law, "zh-Hans", "本法何时施行？").refused
    en = "The State Council departments of China supervise the work [2]. It takes effect on promulgation [1]."
    assert not ground(en, law, "en", "Who supervises the work?").refused
    assert unsupported_places("全县城区面积扩大，各市县协同推进[1]。", "城区面积扩大", lambda: {}) == []


def test_the_place_a_cited_document_is_about_supports_its_claims():
    """A plan's paragraphs say 全市, not the city's name; the document's place (its card) supports the name."""
    text = "全市新建公园12个。"
    chunk = Chunk("d:1", "d.txt", text, "", 0, len(text), "公园建设方案")
    about = [ContextPassage(1, Passage(chunk, 1, 1.0, meta=DocMeta(title="公园建设方案", place="丽江市")), [text])]
    nowhere = [ContextPassage(1, Passage(chunk, 1, 1.0, meta=DocMeta(title="公园建设方案")), [text])]
    answer, q = "丽江市新建公园12个[1]。", "丽江市新建多少个公园？"
    assert not ground(answer, about, "zh-Hans", q).refused
    assert ground(answer, nowhere, "zh-Hans", q).refused
    assert not ground("丽江市新建公园12个。", about, "zh-Hans", q).refused  # uncited: held to every shown document


def test_the_place_check_reads_places_as_answers_write_them():
    """Made-up answers a reviewer wrote to break the check: each is supported and must stand."""
    two = _ctx_texts("丽江市新建公园12个。", "保山市新建公园8个。")
    # places named before the figures they cite one by one are held to the sentence's citations
    assert not ground("丽江市和保山市分别新建公园12个[1]和8个[2]。", two, "zh-Hans", "各新建多少公园？").refused
    # an official name against the short one the passage uses
    assert not ground("内蒙古自治区新建电站20座[1]。", _ctx_texts("内蒙古新建电站20座。"), "zh-Hans", "").refused
    assert not ground("延边朝鲜族自治州新建电站20座[1]。", _ctx_texts("延边州新建电站20座。"), "zh-Hans", "").refused
    # common nouns jieba tags as places are no places
    assert not ground("城镇和农村居民均可参保[1]。", _ctx_texts("城乡居民均可参保。"), "zh-Hans", "").refused
    # saying the sources do not mention a place claims nothing about it
    one = _ctx_texts("丽江市新建公园12个。")
    g = ground("丽江市新建公园12个[1]，资料未提及昆明市的情况。", one, "zh-Hans", "丽江市和昆明市各新建多少？")
    assert not g.refused
    # an English name may be either of two homophones the passages name (苏州 / 宿州)
    homophones = _ctx_texts("宿州市今年新建学校3所。", "苏州市新建医院5家。苏州市还新建公园2个。")
    assert not ground("Suzhou built 3 new schools this year [1].", homophones, "en", "").refused


def test_each_claim_check_drops_only_its_own_sentences():
    ctx = _ctx_texts("丽江市新建公园12个。", "保山市新建学校5所。")
    answer = "丽江市新建公园12个[1]。丽江市新建学校9所[1]。保山市新建公园12个[1]。"
    g = ground(answer, ctx, "zh-Hans", "丽江市新建多少公园？")
    assert g.answer == "丽江市新建公园12个[1]。"
    assert [(c.name, c.result) for c in g.checks if c.name in ("claim_figures", "claim_places")] == [
        ("claim_figures", "repaired"),
        ("claim_places", "repaired"),
    ]
    off = ground(answer, ctx, "zh-Hans", "丽江市新建多少公园？", frozenset({"claim_figures"}))
    assert off.answer == "丽江市新建公园12个[1]。丽江市新建学校9所[1]。"  # the figure sentence is not the place check's


def test_a_place_late_in_a_long_title_supports_the_passage():
    text = "全市新建公园12个。"
    title = (
        "关于支持文化旅游产业高质量发展若干政策措施和配套保障工作的实施细则（丽江市）"  # past the shown 36 characters
    )
    chunk = Chunk("d:1", "d.txt", text, "", 0, len(text), title)
    ctx = [ContextPassage(1, Passage(chunk, 1, 1.0, meta=DocMeta(title=title)), [text])]
    assert not ground("丽江市新建公园12个[1]。", ctx, "zh-Hans", "丽江市新建多少个公园？").refused


def test_a_value_the_passage_gives_another_place_is_answered_from_the_passage_or_dropped():
    """Made-up list of towns and titles: the neighbour's title for the asked town is no support (claim_pairs).
    The passage's own pairing answers instead; where it gives the town nothing plain, the sentence goes."""
    ctx = _ctx_texts(
        "重点培育丽江市文化旅游名城、保山市咖啡产业之都、曲靖市彝绣之乡等特色优势。",
        "保山市新建公园8个。示范市名单：丽江市全省彝绣之乡示范市、曲靖市全省咖啡示范市。",
    )
    q = "保山市的特色定位是什么？"
    assert ground("保山市的定位是“咖啡产业之都”[1]。", ctx, "zh-Hans", q).answer == "保山市的定位是“咖啡产业之都”[1]。"
    mended = ground("保山市的定位是“彝绣之乡”[1]。", ctx, "zh-Hans", q)
    assert not mended.refused and mended.answer == "保山市的定位是“咖啡产业之都”[1]。"
    assert ground("曲靖市[1]", ctx, "zh-Hans", "哪个市被定位为文化旅游名城？").answer == "丽江市[1]"
    # the second passage gives 保山市 no title: the sentence citing it cannot be mended and goes
    g = ground("保山市新建公园8个[2]。保山市获评“全省彝绣之乡示范市”[2]。", ctx, "zh-Hans", q)
    assert not g.refused and g.answer == "保山市新建公园8个[2]。"
    assert any(c.name == "claim_pairs" and c.result == "repaired" for c in g.checks)
    assert ground("保山市获评“全省彝绣之乡示范市”[2]。", ctx, "zh-Hans", q).refused
    # ablations: without the mend the check refuses; without both the misread value stands
    assert ground("保山市的定位是“彝绣之乡”[1]。", ctx, "zh-Hans", q, frozenset({"pair_values"})).refused
    off = frozenset({"pair_values", "claim_pairs"})
    assert ground("保山市的定位是“彝绣之乡”[1]。", ctx, "zh-Hans", q, off).answer == "保山市的定位是“彝绣之乡”[1]。"
    assert [c.result for c in mended.checks if c.name == "pair_values"] == ["repaired"]
