"""A deterministic generator of training messages: course and professional-group chat
(ham) and the spam such groups get, in English, Chinese and Russian.

Written by the project for its base model. Each template is filled from slot lists
with a seeded `random.Random`, so the same seed always gives the same corpus. Samples
carry their template id, so evaluation can hold whole templates out (GroupKFold):
scoring a model on fillings of templates it trained on would overstate it.
Ham deliberately includes the hard cases: links to docs, prices, "DM me" between
classmates, talk about crypto as a subject.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

SLOTS: dict[str, dict[str, list[str]]] = {
    "en": {
        "topic": ["the capstone", "lesson 4", "the SQL module", "week 3 homework", "the pandas assignment", "the final project", "the React chapter", "the statistics quiz", "the system design lecture", "module 7", "the case study", "the portfolio review"],
        "thing": ["rubric", "starter repo", "slides", "recording", "notebook", "checklist", "reading list", "template", "dataset", "grading sheet"],
        "tool": ["Docker", "pandas", "PostgreSQL", "React", "Figma", "Excel", "git", "Kubernetes", "PyTorch", "Notion", "Jira", "Tableau"],
        "name": ["Chen", "Maria", "Alex", "Priya", "Tom", "Olga", "Sam", "Li Wei", "Anna", "David", "Kenji", "Fatima"],
        "day": ["Monday", "Tuesday", "Thursday", "Friday", "tomorrow", "tonight", "this weekend", "next week"],
        "time": ["7pm", "18:00 UTC", "noon", "9am", "after the lecture", "8:30"],
        "site": ["https://docs.python.org/3/library/asyncio.html", "https://github.com/course-org/capstone-starter", "https://www.postgresql.org/docs/current/indexes.html", "https://react.dev/learn", "https://arxiv.org/abs/1706.03762", "https://scikit-learn.org/stable/modules/sgd.html", "https://notion.so/course/week-3-notes", "https://zoom.us/j/84512345678"],
        "coin": ["BTC", "ETH", "USDT", "SOL", "TON", "BNB"],
        "money": ["$500", "$1,200", "$300", "$2,500", "$5,000", "$850", "$150"],
        "scam_site": ["https://bit.ly/3xProfit", "https://tinyurl.com/earn-daily", "https://crypto-signals.vip/join", "http://airdrop-claim.online", "https://t.me/+Xk2investPro", "https://wallet-verify.support/login", "https://binance-bonus.club", "https://fastcash-jobs.site"],
        "handle": ["@invest_with_kate", "@crypto_mentor_jay", "@rich_mindset_club", "@success_coach_ann", "@forex_guru_max", "@easyjobs_hr"],
        "course": ["Coursera", "Udemy", "MasterClass", "the Harvard CS50 premium", "all Skillbox", "the whole bootcamp", "this course"],
    },
    "zh": {
        "topic": ["第三周作业", "期末项目", "SQL 那一节", "第四课", "毕业设计", "数据分析模块", "React 章节", "统计学测验", "系统设计那节课", "案例分析"],
        "thing": ["评分标准", "课件", "录播", "代码模板", "笔记", "参考资料", "数据集", "作业要求"],
        "tool": ["Docker", "pandas", "PostgreSQL", "Excel", "git", "PyTorch", "Notion", "飞书文档", "Figma"],
        "name": ["陈老师", "小王", "李同学", "张助教", "阿杰", "晓雯", "刘老师", "周周"],
        "day": ["周一", "周三", "周五", "明天", "今晚", "这周末", "下周"],
        "time": ["晚上八点", "下午三点", "中午", "课后", "九点半"],
        "site": ["https://docs.python.org/zh-cn/3/", "https://github.com/course-org/capstone-starter", "https://www.runoob.com/sql/sql-tutorial.html", "https://zhuanlan.zhihu.com/p/123456789", "https://meeting.tencent.com/dm/abc123"],
        "coin": ["比特币", "USDT", "以太坊", "BTC"],
        "money": ["500元", "3000元", "两万", "800块", "五千", "日入300"],
        "scam_site": ["https://t.me/+zhuanqian888", "http://vip-kecheng.cc", "https://bit.ly/fuli666", "http://usdt-kongtou.top", "https://jianzhi-hr.site"],
        "handle": ["@zhuanqian_laoshi", "@bizhuan_daka", "@jianzhi_hr01", "@fuliqun_vip"],
        "wx": ["vx：abc8866", "微信 qq12345678", "加V：money_666", "薇：fuli2024", "扣扣 2233445566"],
        "course": ["全套课程", "某课网全部课程", "极客时间全站", "这门课的完整版", "各大平台付费课"],
    },
    "ru": {
        "topic": ["домашка третьей недели", "финальный проект", "модуль по SQL", "четвёртый урок", "дипломный проект", "раздел про React", "тест по статистике", "лекция по системному дизайну", "кейс"],
        "thing": ["критерии оценки", "слайды", "запись лекции", "шаблон репозитория", "конспект", "список литературы", "датасет", "чек-лист"],
        "tool": ["Docker", "pandas", "PostgreSQL", "Excel", "git", "Kubernetes", "PyTorch", "Notion", "Figma"],
        "name": ["Андрей", "Мария", "Олег", "Катя", "Дмитрий", "Ольга", "Саша", "Ирина"],
        "day": ["в понедельник", "в среду", "в пятницу", "завтра", "сегодня вечером", "на выходных", "на следующей неделе"],
        "time": ["в 19:00", "в полдень", "после лекции", "в 9 утра", "в 20:30"],
        "site": ["https://docs.python.org/3/", "https://github.com/course-org/capstone-starter", "https://habr.com/ru/articles/712345/", "https://postgrespro.ru/docs/postgresql/16/indexes", "https://stepik.org/course/67"],
        "coin": ["биткоин", "USDT", "крипту", "BTC", "TON"],
        "money": ["от 3000 рублей", "50 000 руб", "200$ в день", "от 1500 в день", "100 000 в месяц"],
        "scam_site": ["https://t.me/+rabota_doma", "http://zarabotok-online.ru", "https://bit.ly/dohod24", "https://crypto-signal.pro", "http://kursy-besplatno.site"],
        "handle": ["@rabota_udalenno", "@invest_anna", "@kripto_mentor", "@hr_manager_olga"],
        "course": ["все курсы Skillbox", "курсы GeekBrains", "весь Нетология", "полный курс", "платные курсы"],
    },
}

HAM: dict[str, list[str]] = {
    "en": [
        'If you want a second pair of eyes on {topic}, send me a DM, happy to help.',
        "We're hiring a {tool} engineer on my team, remote friendly. Happy to refer anyone from the course.",
        'Does the certificate for {topic} cost extra or is it included in the {money} fee?',
        'Found a free tutorial on {tool} that covers {topic} well: {site}',
        'Can anyone recommend a book on {tool}? The {thing} lists three and I can only buy one.',
        "I'll be late {day}, can someone take notes on {topic}?",
        'Is it OK to use ChatGPT for {topic} or does it count as cheating?',
        'Pro tip: the {thing} has a hidden tab with extra exercises.',
        "Does anyone know if {topic} is due {day}? I can't find it in the {thing}.",
        "I pushed my draft for {topic}, could someone check the {thing} part?",
        "The {thing} for {topic} is here: {site}",
        "Thanks {name}! That fixed my {tool} error.",
        "Office hours moved to {day} {time}, same link as last time.",
        "Has anyone got {tool} working on Windows? I keep getting permission errors.",
        "Quick question about {topic}: should we normalise the data before or after the split?",
        "Great lecture today, the part about {tool} finally clicked for me.",
        "Reminder: peer review for {topic} closes {day} at {time}.",
        "{name}, DM me your repo link and I'll review it {day}.",
        "Is the {thing} for {topic} updated? The one I have mentions last year's dates.",
        "Here's a good explanation of indexes if anyone is stuck: {site}",
        "I'm blocked on {topic}, my {tool} container exits with code 137. Any ideas?",
        "Study group {day} {time}? We could go through {topic} together.",
        "The course price went up to {money} for the next cohort, glad I joined early.",
        "For the finance module: is it fair to treat {coin} as a currency or as an asset in the case study?",
        "Congrats everyone who passed {topic}! See you {day}.",
        "+1, same question here",
        "Can we get the recording of {topic}? I missed the last 20 minutes.",
        "My solution for {topic} runs in 4 seconds, is that acceptable or should I optimise?",
        "I wrote up my notes on {topic} with {tool}: {site}",
        "Who is presenting first {day}? I can go after {name}.",
        "Thanks for the feedback {name}, I'll rewrite the intro of my {thing}.",
        "Hiring note from my company: we're looking for a junior data analyst, the posting is on our careers page, ask me anything here.",
        "Anyone else's {tool} install failing since the update? Rolling back fixed it for me.",
        "Sorry for the late reply, I was travelling. I'll send the {thing} {day}.",
        "I got {money} back as a refund for the conference, so the course budget is fine.",
        "The mentor said we can use {tool} or {tool2} for {topic}, both are fine.",
        "ok, thanks",
        "Good morning all! Lecture starts {time}.",
    ],
    "zh": [
        '想找人帮忙看{topic}的可以私信我，我有空。',
        '我们组在招{tool}工程师，可以远程，课程里的同学我可以内推。',
        '{topic}的证书要另外交钱吗，还是包含在{money}学费里？',
        '推荐一个免费的{tool}教程，讲{topic}讲得很好：{site}',
        '{day}我会晚到，谁能帮我记一下{topic}的笔记？',
        '做{topic}的时候可以用 ChatGPT 吗？算不算作弊？',
        '有没有人推荐{tool}的书？{thing}里列了三本。',
        "请问{topic}是{day}交吗？{thing}里没写。",
        "我把{topic}的草稿传上去了，谁帮我看看{thing}那部分？",
        "{topic}的{thing}在这里：{site}",
        "谢谢{name}！{tool}的报错解决了。",
        "答疑时间改到{day}{time}，还是上次的链接。",
        "有人在 Windows 上装好{tool}了吗？一直提示权限错误。",
        "关于{topic}：数据要在划分之前还是之后做归一化？",
        "今天的课讲得很清楚，{tool}那部分终于懂了。",
        "提醒一下：{topic}的互评{day}{time}截止。",
        "{name}，把你的仓库链接私信给我，我{day}帮你看。",
        "{topic}的{thing}更新了吗？我手上的还是去年的日期。",
        "卡在{topic}了，{tool}容器一直退出，有人遇到过吗？",
        "{day}{time}一起复习{topic}吗？",
        "下一期课程涨到{money}了，还好我报得早。",
        "金融模块的案例里，{coin}应该算货币还是资产？",
        "恭喜大家{topic}都通过了！{day}见。",
        "+1，我也想问这个",
        "能发一下{topic}的录播吗？最后二十分钟没听到。",
        "我用{tool}整理了{topic}的笔记：{site}",
        "谢谢{name}的反馈，我把{thing}的开头重写一下。",
        "大家早上好！{time}上课。",
        "好的，收到",
        "我们公司在招数据分析实习生，岗位在官网上，有问题可以在群里问我。",
        "抱歉回复晚了，{day}把{thing}发给大家。",
    ],
    "ru": [
        'Если нужен свежий взгляд на {topic}, пишите в личку, помогу.',
        'У нас в команде ищут инженера по {tool}, можно удалённо, могу порекомендовать.',
        'Сертификат оплачивается отдельно или входит в стоимость курса?',
        'Нашёл бесплатный туториал по {tool}, хорошо объясняет тему: {site}',
        '{day} опоздаю, кто-нибудь запишет, что было про {topic}?',
        'Можно использовать ChatGPT для задания или это списывание?',
        "Кто-нибудь знает, {topic} сдавать {day}? В разделе «{thing}» не нашёл.",
        "Залил черновик, посмотрите, пожалуйста, {thing} — правильно понял задание?",
        "{thing} по теме «{topic}» лежит тут: {site}",
        "Спасибо, {name}! Ошибка в {tool} ушла.",
        "Консультация переносится {day} {time}, ссылка та же.",
        "У кого-нибудь {tool} заработал на Windows? Постоянно ошибка прав доступа.",
        "Вопрос по теме «{topic}»: нормализовать данные до разбиения или после?",
        "Отличная лекция сегодня, наконец понял {tool}.",
        "Напоминаю: взаимная проверка закрывается {day} {time}.",
        "{name}, скинь в личку ссылку на репозиторий, посмотрю {day}.",
        "{thing} обновили? У меня ещё с прошлогодними датами.",
        "Застрял, контейнер {tool} падает с кодом 137. Есть идеи?",
        "Собираемся {day} {time} разобрать {topic}?",
        "Следующий поток уже дороже, хорошо что записался заранее.",
        "В кейсе по финансам {coin} считать валютой или активом?",
        "Поздравляю всех, кто сдал! Увидимся {day}.",
        "+1, тот же вопрос",
        "Можно запись лекции? Пропустил последние 20 минут.",
        "Выложил конспект по {tool}: {site}",
        "Спасибо за отзыв, {name}, перепишу вступление.",
        "Всем доброе утро! Лекция {time}.",
        "ок, спасибо",
        "У нас в компании ищут джуна-аналитика, вакансия на сайте, спрашивайте здесь.",
        "Извините за задержку, {thing} пришлю {day}.",
    ],
}

SPAM: dict[str, list[str]] = {
    "en": [
        "Selling lifetime access to {course}, 90% off, message me before it's gone",
        'Moms and students welcome! Earn {money} a day using only your phone. DM me',
        "Want to quit your 9-5? I'll teach you how I make {money} weekly, contact {handle}",
        'Cheap essays, homework and exam help, guaranteed A grade, WhatsApp +1 555 0134',
        'Limited offer: {coin} giveaway, send 0.1 and receive 1.0 back {scam_site}',
        'Dear members, the admin asked me to share this investment platform {scam_site}',
        "I made {money} in one week trading {coin} with the help of {handle}, message her now and start earning!",
        "🚀🚀 Join our {coin} signals group, 95% accuracy, daily profit guaranteed {scam_site}",
        "Work from home and earn {money} per day, no experience needed. DM me for details!",
        "Hello everyone, I'm looking for 5 serious people who want to earn {money} weekly. Write me in private.",
        "Selling {course} for only $19, all materials and certificates included. PM {handle}",
        "Get {course} for free, all videos leaked here: {scam_site}",
        "🎁 Free {coin} airdrop! Claim your reward before it ends: {scam_site}",
        "Your account will be suspended. Verify your wallet now: {scam_site}",
        "Congratulations! You have been selected to receive {money} in {coin}. Contact {handle} to claim.",
        "Stop wasting time on courses. My students earn {money} a month. Link in bio {scam_site}",
        "Investment opportunity: deposit {money}, withdraw 10x in 48 hours. Trusted and legit {scam_site}",
        "Need remote workers for simple online tasks, {money} daily, message {handle}",
        "Hot singles in your area are waiting 💋 {scam_site}",
        "I recommend {handle}, she helped me recover my lost {coin}, honest and reliable.",
        "Earn passive income with our AI trading bot, {money} profit every day {scam_site}",
        "Hi, is anyone interested in making extra money? Just a few hours a day, write me in DM 💰",
        "FREE MONEY 💵💵 click here {scam_site} and get {money} instantly",
        "Buy followers, likes and views cheap! Contact {handle}",
        "The best {coin} pump group on Telegram, next pump in 2 hours, join {scam_site}",
        "I'm a certified account manager, I can help you double your {coin} in 24 hours. Inbox me.",
        "Looking for partners, high income, remote, details in DM",
        "Registration is open: earn {money} without leaving home, limited spots {scam_site}",
    ],
    "zh": [
        '低价出售各大平台会员和课程，需要的私我',
        '学生宝妈兼职，手机就能做，每天一两个小时，收入{money}',
        '想改变现状的朋友看过来，零基础带你月入{money}，{wx}',
        '代写作业论文，保过，{wx}',
        '管理员让我发的，靠谱理财平台：{scam_site}',
        '免费送{coin}，转0.1返1个，限时活动{scam_site}',
        '网赚项目，一部手机就够，不收任何费用，私聊',
        "兼职日结，在家动动手指日赚{money}，有意者加{wx}",
        "{coin}内部消息，带单稳赚，进群{scam_site}",
        "出售{course}，低价打包，需要的私聊{handle}",
        "{course}免费领取，资源都在这里：{scam_site}",
        "🎁 {coin}空投福利，点击领取：{scam_site}",
        "您的账户存在异常，请立即验证：{scam_site}",
        "招聘网络兼职，无需经验，日结{money}，{wx}",
        "恭喜您获得{money}奖励，联系{handle}领取",
        "宝妈学生党都能做，一部手机在家赚{money}，私聊我",
        "炒币带单，每天收益{money}，不赚不收费，加{wx}",
        "福利群免费进，看片资源每日更新 {scam_site}",
        "刷单返利，先返后付，加{wx}了解",
        "代开发票，代考证书，需要的联系{handle}",
        "有想赚钱的吗？简单操作，私信我 💰💰",
        "投资理财，稳赚不赔，月入{money}，详情进群{scam_site}",
        "专业做{coin}搬砖套利，零风险，加{wx}",
    ],
    "ru": [
        'Продаю доступ к {course} со скидкой 90%, пишите в лс',
        'Мамы в декрете и студенты! Подработка с телефона, {money}, пишите',
        'Хочешь уйти с работы? Научу зарабатывать {money}, пиши {handle}',
        'Сделаю домашку и курсовую недорого, гарантия, пишите в личку',
        'Админ разрешил: надёжная платформа для инвестиций {scam_site}',
        'Раздаю {coin}, отправь 0.1 и получи 1.0 обратно {scam_site}',
        'Работа с телефона, пару часов в день, оплата каждый день, подробности в ЛС',
        "Требуются люди для удалённой работы, доход {money}, пишите в личку",
        "Заработок в интернете {money}, без опыта, подробности в ЛС",
        "Продам {course} за 990 рублей, все материалы, пишите {handle}",
        "{course} бесплатно, все видео тут: {scam_site}",
        "Ищу партнёров для пассивного дохода в {coin}, {money}, пиши в лс",
        "🎁 Раздача {coin}! Забери свой бонус: {scam_site}",
        "Ваш аккаунт будет заблокирован, подтвердите данные: {scam_site}",
        "Сигналы по {coin}, точность 95%, заходи {scam_site}",
        "Нужны 3 человека на подработку, {money}, всё легально, детали в ЛС",
        "Привет всем! Кто хочет зарабатывать {money} из дома? Напиши мне в личные сообщения",
        "Инвестиции под 30% в неделю, гарантия, {handle}",
        "Набираю команду, доход {money}, обучение бесплатно {scam_site}",
        "Для удалённого заработка нужен только телефон, {money}, пишите {handle}",
        "Помогу вернуть потерянные {coin}, обращайтесь {handle}",
        "Быстрые деньги без вложений 💰 {scam_site}",
        "Открыт набор на удалёнку, {money}, в лс подробности",
    ],
}


@dataclass(frozen=True, slots=True)
class Sample:
    """One generated message: its text, label (1 spam), language and template id."""

    text: str
    label: int
    lang: str
    template: str


_SLOT = re.compile(r"\{(\w+)\}")
_NOISE_EN = ["", "", "", " 🙏", " !!", " 👇", " ✅", " 🔥"]


def _fill(template: str, slots: dict[str, list[str]], rng: random.Random) -> str:
    def sub(m: re.Match) -> str:
        key = m.group(1).rstrip("0123456789")
        return rng.choice(slots[key])

    return _SLOT.sub(sub, template)


def _mutate(text: str, rng: random.Random, spam: bool) -> str:
    # Real spam hides from filters; real chat is sloppy. Both get light variation.
    r = rng.random()
    if r < 0.15:
        text = text.lower()
    elif spam and r < 0.25:
        text = text.upper()
    elif spam and r < 0.32:
        text = text.replace("o", "о", 2).replace("e", "е", 1)  # Cyrillic lookalikes
    if rng.random() < 0.2:
        text += rng.choice(_NOISE_EN)
    return text


def generate(n_per_template: int = 12, seed: int = 2026) -> list[Sample]:
    """The corpus: every template filled `n_per_template` times, deterministic in `seed`."""
    rng = random.Random(seed)
    out: list[Sample] = []
    for label, table in ((0, HAM), (1, SPAM)):
        for lang, templates in table.items():
            for ti, tpl in enumerate(templates):
                seen: set[str] = set()
                for _ in range(n_per_template * 3):
                    text = _mutate(_fill(tpl, SLOTS[lang], rng), rng, bool(label))
                    if text in seen:
                        continue
                    seen.add(text)
                    out.append(Sample(text, label, lang, f"{'spam' if label else 'ham'}-{lang}-{ti}"))
                    if len(seen) >= n_per_template:
                        break
    return out
