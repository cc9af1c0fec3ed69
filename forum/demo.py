"""Sample communities, people and conversations, so a first `make run` shows a living site.

Everything goes in through the real services (registering, joining, posting), so the demo
obeys the same rules as real use. Only the clock is adjusted afterwards: the services stamp
"now", and a site whose every post is a minute old would not read like one.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from forum import (
    accounts,
    answers,
    clinicians,
    communities,
    db,
    experience,
    reactions,
    stories,
    threads,
)
from forum.errors import Conflict
from forum.permissions import Viewer
from forum.settings import RateLimit, Settings
from forum.tables import Community, Membership, Post, Story, StoryComment, Thread, User

# Printed by `kindred demo`; every demo account uses it.
PASSWORD = "kindred-demo-2026"  # noqa: S105 - a published demo password, not a secret
# "admin" itself is a reserved username, so the demo administrator needs another.
ADMIN = "site_admin"
# Accounts and communities "exist" from this many days back, before the first conversation.
SITE_AGE_DAYS = 75


@dataclass(frozen=True)
class DemoCommunity:
    slug: str
    name: str
    description: str
    visibility: str = "public"


@dataclass(frozen=True)
class Person:
    """A demo account. `joins` public communities itself; the admin adds it to private ones."""

    username: str
    display_name: str
    role: str = "member"
    joins: tuple[str, ...] = ()
    moderates: tuple[str, ...] = ()
    bio: str = ""


@dataclass(frozen=True)
class Reply:
    author: str
    hours: float  # after the conversation started
    body: str


@dataclass(frozen=True)
class Conversation:
    community: str
    author: str
    title: str
    days_ago: float
    body: str
    replies: tuple[Reply, ...]
    kind: str = "discussion"


COMMUNITIES = (
    DemoCommunity(
        "heart-failure",
        "Heart failure",
        "For people living with **heart failure** and the families who support them. Share "
        "what daily life is like, swap ideas about food, energy and medicines, and ask our "
        "cardiology nurses your questions.",
    ),
    DemoCommunity(
        "celiac",
        "Celiac disease",
        "Living gluten free without losing the joy of food. Whether you were diagnosed last "
        "week or decades ago, you'll find people here who know what it's like.",
    ),
    DemoCommunity(
        "type-1-diabetes",
        "Type 1 diabetes",
        "For adults with **type 1 diabetes** and parents of children with it. Pumps and pens, "
        "sensors, sport, school and the 3 a.m. alarms: bring it all here.",
    ),
    DemoCommunity(
        "long-covid",
        "Long COVID",
        "A patient place for people still unwell months after COVID, and those close to them. "
        "Go at your own pace: reading is enough on the hard days.",
    ),
    DemoCommunity(
        "caregivers-circle",
        "Caregivers' circle",
        "A private, quieter room for people caring for someone with a long-term condition. "
        "Only members can see what is written here; a moderator adds you when you ask.",
        visibility="private",
    ),
)

PEOPLE = (
    Person(ADMIN, "Sam (site team)", role="admin", bio="I look after this Kindred site."),
    Person(
        "grace_mod", "Grace", role="moderator", moderates=("long-covid", "caregivers-circle"),
        bio="Volunteer moderator. Living with long COVID since 2021, and here because this "
        "community helped me.",
    ),
    Person(
        "tom_moderator", "Tom", role="moderator", moderates=("heart-failure", "celiac"),
        bio="Volunteer moderator. My mum has heart failure and I have celiac disease.",
    ),
    Person(
        "lena_t1", "Lena", role="moderator", moderates=("type-1-diabetes",),
        bio="Type 1 for over twenty years, still on pens, still learning. Volunteer moderator.",
    ),
    Person(
        "nurse_priya", "Nurse Priya, cardiology", role="clinician",
        joins=("heart-failure", "long-covid"),
        bio="Heart failure specialist nurse. I answer general questions here; for advice about "
        "your own treatment, please talk to your own care team.",
    ),
    Person(
        "dr_okafor", "Dr. Okafor, endocrinology", role="clinician",
        joins=("type-1-diabetes", "celiac"),
        bio="Endocrinologist working with children and adults with type 1 diabetes.",
    ),
    Person(
        "physio_jonas", "Jonas, physiotherapist", role="clinician", joins=("long-covid",),
        bio="Physiotherapist in a post-COVID rehabilitation clinic.",
    ),
    Person(
        "maria_celiac", "Maria", joins=("celiac",),
        bio="Diagnosed with celiac disease this year. Still learning to read labels.",
    ),
    Person(
        "helen_gf", "Helen", joins=("celiac",),
        bio="Living with celiac disease since 2004. Keen baker, slow runner.",
    ),
    Person(
        "dev_caregiver", "Dev (caring for his dad)",
        joins=("heart-failure", "caregivers-circle"),
        bio="My dad was diagnosed with heart failure last year and lives with us now.",
    ),
    Person(
        "rosa_hf", "Rosa", joins=("heart-failure",),
        bio="Heart failure since 2019. Retired teacher, gardener, grandmother of three.",
    ),
    Person("walter_heart", "Walter", joins=("heart-failure",)),
    Person(
        "kofi_t1", "Kofi", joins=("type-1-diabetes", "celiac"),
        bio="Type 1 since I was 12, celiac since 19. Pump user, cyclist.",
    ),
    Person(
        "emma_t1mum", "Emma (mum of a type 1 kid)",
        joins=("type-1-diabetes", "celiac", "caregivers-circle"),
        bio="My son was diagnosed with type 1 at six. He is nine now and braver than me.",
    ),
    Person("jun_t1", "Jun", joins=("type-1-diabetes",), bio="Diagnosed with type 1 at 34."),
    Person(
        "aisha_longcovid", "Aisha", joins=("long-covid",),
        bio="Primary school teacher, finding my way back after long COVID.",
    ),
    Person("ben_lc", "Ben", joins=("long-covid",)),
    Person(
        "noor_lc", "Noor", joins=("long-covid",),
        bio="Long COVID since early 2022. Pacing nerd.",
    ),
    Person(
        "pat_caregiver", "Pat (caring for my wife)",
        joins=("long-covid", "caregivers-circle"),
        bio="My wife has had long COVID for two years.",
    ),
)  # fmt: skip

CONVERSATIONS = (
    # Heart failure ------------------------------------------------------------------------
    Conversation(
        "heart-failure", "dev_caregiver", "Does daily weighing really matter?", 12.4,
        kind="ask_clinician",
        body="""
            My dad came home from hospital last week after a stay for his heart failure. The
            nurse told him to weigh himself every morning and write it down. He thinks it's
            fuss and keeps forgetting. Does it really make a difference? What should we be
            looking out for?
            """,
        replies=(
            Reply("nurse_priya", 5, """
                Yes, it really does matter, and it's one of the most useful things your dad
                can do at home.

                When heart failure gets worse, the body starts to hold on to fluid. That fluid
                shows up on the scales, often a few days **before** he notices more
                breathlessness or swollen ankles. A sudden gain over a day or two is almost
                always fluid, not fat.

                To make the numbers comparable:

                - weigh at the same time each morning, after the toilet and before breakfast
                - wear similar clothes (or none) and use the same scales on a hard floor
                - write it down, so a trend is easy to see

                Many heart failure teams ask people to call them if their weight goes up by
                about 2 kg (4 lb) over three days, but your dad's team may have given him a
                different number: use theirs. And if he is ever suddenly very short of breath,
                call emergency services rather than waiting.
                """),
            Reply("walter_heart", 9, """
                I was just like your dad. Then the scales caught fluid building up twice before
                I felt anything. Both times my nurse adjusted my water tablets over the phone
                and I stayed out of hospital. I don't skip it now.
                """),
            Reply("rosa_hf", 20, """
                A tip that worked for me: the scales live next to the kettle, and I weigh
                before I'm allowed my first cup of tea. The notebook sits right there too.
                """),
            Reply("dev_caregiver", 26, """
                Thank you all. We've put a chart on the fridge and Dad has agreed to a
                "scales before tea" rule. Knowing *why* made all the difference for him.
                """),
        ),
    ),
    Conversation(
        "heart-failure", "rosa_hf", "Finding low-salt food that still tastes of something", 41.7,
        body="""
            Since cutting down on salt, everything tastes like cardboard to me. What do you
            cook that you actually enjoy? Here's what I have so far:

            - lemon and black pepper on fish
            - roasted vegetables with garlic
            - fresh herbs from the garden, lots of them
            """,
        replies=(
            Reply("walter_heart", 3, """
                Vinegar! A splash of good vinegar in soups and stews does what salt used to do
                for me. Also, your taste buds do adjust. After about two months I found
                restaurant food far too salty.
                """),
            Reply("dev_caregiver", 30, """
                The biggest change for us was reading labels. Bread, stock cubes and ready
                meals had far more salt than we expected. We make a big pot of soup on Sundays
                now and freeze it in portions.
                """),
            Reply("nurse_priya", 50, """
                Lovely ideas here. One thing to know: many "low-salt" salt substitutes replace
                sodium with **potassium**. That can be a problem with some heart failure
                medicines, which also raise potassium. Please check with your team or
                pharmacist before using one. Herbs, spices, citrus and vinegar are safe bets.
                """),
            Reply("rosa_hf", 52, """
                I had no idea about the substitutes, and I had a tub in the cupboard. Thank
                you, I'll ask at my next appointment.
                """),
            Reply("tom_moderator", 75, """
                My mum swears by smoked paprika and toasted seeds on everything. Thanks for
                starting such a useful thread, Rosa.
                """),
        ),
    ),
    Conversation(
        "heart-failure", "walter_heart", "Feeling low since the diagnosis", 6.5,
        body="""
            It's been four months since I was told I have heart failure. Physically I'm doing
            better than I expected, but I feel flat most days. I used to walk the dog for an
            hour and now I plan my day around stairs. Did anyone else feel like this?
            """,
        replies=(
            Reply("rosa_hf", 2, """
                Yes, Walter. The first year was the hardest for me, more in my head than in
                my chest. It did lift, slowly. Talking about it helped more than I expected.
                """),
            Reply("tom_moderator", 4, """
                Thank you for being honest about this, Walter. Feeling low is very common
                after a heart failure diagnosis, and it's worth mentioning to your GP or heart
                failure nurse: it's part of your health, not separate from it. Many cardiac
                rehab programmes include support for this too.

                If you ever feel you can't keep yourself safe, please contact your local
                emergency number or a crisis line straight away.
                """),
            Reply("dev_caregiver", 7, """
                My dad went through the same thing. What helped him was small goals: the end
                of the road, then the post box, then the park bench. He sends me a photo of
                the bench every time he gets there.
                """),
            Reply("walter_heart", 30, """
                Thank you. I've booked to see my GP, and the dog and I made it to the end of
                the road and back today.
                """),
        ),
    ),
    Conversation(
        "heart-failure", "dev_caregiver", "What was cardiac rehab like for you?", 27.2,
        body="""
            Dad has been offered a place on a cardiac rehab programme. He's nervous it will
            be like a gym full of fit people. What was it like for you?
            """,
        replies=(
            Reply("walter_heart", 6, """
                Nothing like a gym! Our group was mostly people in their sixties and seventies.
                Gentle exercise with staff watching, then a talk about medicines, food or
                stress. The best part was meeting people in the same boat.
                """),
            Reply("rosa_hf", 8, """
                It gave me my confidence back. Before rehab I was scared to get out of breath
                at all. They showed me what was safe for *me*.
                """),
            Reply("nurse_priya", 22, """
                It's well worth going. Cardiac rehab is recommended for many people with heart
                failure: it can improve how much you can do day to day and your quality of
                life. The programme is adapted to each person, and the staff will check how
                he is before every session. If travelling is hard, ask whether there is a
                home-based option.
                """),
        ),
    ),
    # Celiac disease -----------------------------------------------------------------------
    Conversation(
        "celiac", "maria_celiac", "Gluten free restaurants when travelling?", 2.2,
        body="""
            I was diagnosed with celiac disease two months ago and I'm going abroad for a
            friend's wedding in the spring. I'm terrified of getting glutened and spending
            the trip ill. How do you find safe places to eat when you don't speak the
            language?
            """,
        replies=(
            Reply("helen_gf", 3, """
                Welcome, Maria! Travelling gets easier, I promise. What works for me:

                1. A **translation card** that explains celiac disease in the local language,
                   including cross-contamination, not just "no bread".
                2. The national celiac society of the country you're visiting often lists
                   restaurants that have been trained.
                3. Ask about shared fryers. Chips are often cooked in the same oil as
                   breaded food.
                """),
            Reply("kofi_t1", 6, """
                I always pack a day's worth of snacks in my hand luggage, so I'm never
                forced to take a risk because I'm starving. And I look at menus online before
                I go, so I'm not deciding in a rush.
                """),
            Reply("emma_t1mum", 11, """
                We book somewhere with a small kitchen when we travel with our son. Then
                breakfast is safe, and we only need one good restaurant a day.
                """),
            Reply("maria_celiac", 14, """
                This is so helpful, thank you. I've ordered a translation card and I'll look
                for an apartment with a kitchen. I feel a lot less scared already.
                """),
        ),
    ),
    Conversation(
        "celiac", "helen_gf", "First year after diagnosis — what helped you?", 33.6,
        body="""
            I was diagnosed in 2004, when "gluten free" meant dry bread from the pharmacy.
            Looking back, these helped me most in the first year:

            - seeing a **dietitian** early, not just being handed a leaflet
            - learning to read labels, then having a short list of safe everyday foods
            - follow-up blood tests, which showed my antibodies coming down over the year
            - forgiving myself for mistakes; everyone gets glutened at some point

            What helped you? I'd love this to be a thread newly diagnosed people can find.
            """,
        replies=(
            Reply("emma_t1mum", 5, """
                For us it was finding one cheap gluten free bread our son actually liked.
                Sounds small, but it meant packed lunches stopped being a battle.
                """),
            Reply("kofi_t1", 20, """
                Accepting that my energy would take months, not weeks, to come back. And
                telling friends plainly what I need, so they stopped worrying about
                offending me.
                """),
            Reply("tom_moderator", 26, """
                Great thread, Helen. I'd add: ask your team whether your iron, vitamin D and
                other levels have been checked. Mine were low at diagnosis and I felt much
                better once that was sorted.
                """),
            Reply("maria_celiac", 200, """
                I found this thread three weeks after my diagnosis and read it twice. The bit
                about forgiving yourself for mistakes is exactly what I needed. Thank you.
                """),
            Reply("helen_gf", 203, """
                So glad it helped, Maria. It does get easier, and you're not on your own.
                """),
        ),
    ),
    Conversation(
        "celiac", "emma_t1mum", "My son has type 1 — should he be tested for celiac too?", 18.3,
        kind="ask_clinician",
        body="""
            My son is nine and has had type 1 diabetes for three years. Someone in this
            community mentioned that the two conditions often go together. He has no tummy
            problems. Should he be tested for celiac disease anyway?
            """,
        replies=(
            Reply("dr_okafor", 19, """
                That's a good question to ask. Celiac disease is more common in people with
                type 1 diabetes than in everyone else, and it can cause few or no obvious
                symptoms. That's why many diabetes guidelines recommend a celiac blood test
                when type 1 is diagnosed and then again every few years, or sooner if there
                are symptoms or growth concerns.

                Two practical points:

                - the test looks for antibodies, so he needs to **keep eating gluten** until
                  it's done, or the result can look falsely normal
                - ask his diabetes team when he was last screened; it may already be part of
                  his annual review
                """),
            Reply("emma_t1mum", 22, """
                Thank you, that's really clear. I checked and he was tested at diagnosis but
                not since, so I've asked for it at his next review.
                """),
            Reply("helen_gf", 30, """
                Good luck, Emma. Whatever the result, you know where we are.
                """),
        ),
    ),
    Conversation(
        "celiac", "maria_celiac", "Sharing a kitchen with flatmates — how do you avoid crumbs?",
        9.45,
        body="""
            I share a kitchen with three flatmates who are kind about my diagnosis but very
            relaxed about crumbs. I think I've been glutened twice this month. How do you
            manage a shared kitchen?
            """,
        replies=(
            Reply("helen_gf", 2, """
                The usual culprits are the toaster, butter and jam with crumbs in them, and
                colanders. I'd get:

                - **your own toaster** (or toaster bags)
                - your own butter, jam and spreads, clearly labelled
                - your own colander and a wooden spoon or two, as they're hard to clean

                And a shelf at the top of the cupboard, so nothing falls onto your food.
                """),
            Reply("kofi_t1", 5, """
                A house chat helped in my flat. I showed them how little it takes, and they
                started wiping the board before I cook. People are usually happy to help once
                they understand it isn't a fad.
                """),
            Reply("tom_moderator", 8, """
                Stickers! I put bright green stickers on everything that's mine. It sounds
                silly, but nobody borrows my jam any more.
                """),
            Reply("maria_celiac", 10, """
                Toaster ordered and green stickers on the shopping list. Thank you!
                """),
        ),
    ),
    # Type 1 diabetes ----------------------------------------------------------------------
    Conversation(
        "type-1-diabetes", "jun_t1", "Pump or pens? Trying to decide", 15.8,
        body="""
            My team says I can try an insulin pump if I want to. I've been on pens for a
            year and I'm doing OK, but my numbers swing around at night. For those who have
            tried both, what made you choose?
            """,
        replies=(
            Reply("kofi_t1", 2, """
                Pump for eight years here. What I like:

                - I can change my background insulin by the hour (great for cycling days)
                - far fewer injections

                What I don't: being attached to something all the time, and site changes.
                Also, if the pump stops delivering, your glucose can rise fast because
                there's no long-acting insulin in the background, so you need a back-up plan.
                """),
            Reply("lena_t1", 4, """
                Twenty years on pens and happy. I like that there's nothing attached to me.
                It's a very personal choice. Neither is the "advanced" option.
                """),
            Reply("emma_t1mum", 9, """
                Our son went onto a pump at seven and it made school much easier for him. But
                the first month of learning was hard work for all of us.
                """),
            Reply("dr_okafor", 28, """
                Both can work very well. A pump gives finer control of background insulin,
                which can help with night-time swings, but it asks for more hands-on learning
                at the start. Tell your team what matters most to you (fewer injections,
                flexibility, nothing attached) and ask whether you can see or try a pump
                before deciding.
                """),
            Reply("jun_t1", 31, """
                Thanks, everyone. I've asked for a session with the pump educator before I
                decide.
                """),
        ),
    ),
    Conversation(
        "type-1-diabetes", "emma_t1mum", "Night-time lows — how worried should I be?", 4.1,
        kind="ask_clinician",
        body="""
            My son's sensor alarm has gone off for lows at around 3 a.m. three times this
            week. We treat it and he goes back to sleep, but I lie awake afterwards. How
            worried should I be, and what should I ask his team?
            """,
        replies=(
            Reply("kofi_t1", 1.5, """
                Sending you strength. Those alarms are hard on parents. For me, night lows
                almost always followed a busy sports day. The effect of exercise can last
                into the night.
                """),
            Reply("dr_okafor", 14, """
                You're doing the right thing by treating each low and noticing the pattern.
                Lows at night are common, and a repeating pattern usually means something
                can be adjusted. Common causes are a lot of activity earlier in the day, a
                late correction dose, or background insulin that is a little too high.

                What helps:

                - treat lows as his plan says, and recheck after about 15 minutes
                - make sure you have **glucagon** at home and know how to use it
                - send his team the last two weeks of sensor data and ask them to look at
                  the night-time pattern; please talk it through with them before changing
                  his doses
                """),
            Reply("emma_t1mum", 16, """
                Thank you. It was two football days and one birthday party, so that fits.
                I've shared his data with the team and we have a call on Monday.
                """),
            Reply("lena_t1", 20, """
                Glad you've got a plan, Emma. Please also look after your own sleep; the
                caregivers' circle has a thread about exactly that.
                """),
        ),
    ),
    Conversation(
        "type-1-diabetes", "kofi_t1", "Exercise and blood sugar — what works for you?", 23.5,
        body="""
            I cycle most weekends and I'm still learning how to avoid going low halfway up
            a hill. Share what works for you, and for which kind of exercise. Mine:

            - long, steady rides: lower my background insulin beforehand, as agreed with
              my team, and carry fast sugar in an easy pocket
            - short sprints: funnily enough, these can push me *up* for a while
            """,
        replies=(
            Reply("jun_t1", 4, """
                Swimming drops me fast. I now have a snack and check my sensor before getting
                in, and keep glucose tablets at the end of the pool.
                """),
            Reply("lena_t1", 6, """
                Yoga and walking are gentle on my numbers. The big lesson for me was that a
                long walk in the afternoon can still bring a low at bedtime.
                """),
            Reply("emma_t1mum", 27, """
                For our son's football, a small snack before and a sports drink in his bag
                works. His coach knows the signs of a low, which helps me relax.
                """),
        ),
    ),
    Conversation(
        "type-1-diabetes", "lena_t1", "New here? Say hello", 57.3,
        body="""
            Welcome to the type 1 community! Tell us a little about yourself if you'd like:
            how long you've had type 1 (or who you're here for), and what you hope to find.
            There are no silly questions here.
            """,
        replies=(
            Reply("kofi_t1", 5, """
                Hi all, Kofi here. Type 1 since I was 12, also celiac. Happy to talk pumps,
                cycling and gluten free travel.
                """),
            Reply("emma_t1mum", 50, """
                Hello! I'm Emma, mum to a nine-year-old with type 1. Here to learn from adults
                who grew up with it.
                """),
            Reply("jun_t1", 210, """
                Hi, I'm Jun. Diagnosed at 34 last year, which surprised everyone (me most of
                all). I'm still getting used to it, so I'm glad this place exists.
                """),
        ),
    ),
    # Long COVID ---------------------------------------------------------------------------
    Conversation(
        "long-covid", "ben_lc", "Pacing: how do you actually do it?", 20.6,
        body="""
            Everyone tells me to "pace myself", but I keep overdoing it on good days and then
            spend three days in bed. How do you actually do pacing in real life?
            """,
        replies=(
            Reply("noor_lc", 3, """
                The boom and bust cycle! I was stuck in it for a year. What changed things:

                - I stop an activity while I still feel OK, not when I'm tired
                - I split jobs up: shower one day, hair wash the next
                - I keep a simple diary, because the crash often comes a day or two **after**
                  the thing that caused it
                """),
            Reply("aisha_longcovid", 7, """
                Planned rest, lying down with my eyes closed, even on good days. It felt lazy
                at first. Now I see it as my medicine.
                """),
            Reply("physio_jonas", 24, """
                Lovely, practical advice above. A few things we use in clinic:

                1. Find a **baseline**: what you can do on a bad day without getting worse.
                2. Keep to that for a while, even on good days, before adding anything.
                3. If you get worse a day or two after activity (post-exertional symptoms),
                   don't push through with fixed, increasing exercise. Ask for support from
                   a rehab team that knows long COVID.
                """),
            Reply("ben_lc", 27, """
                "Stop while you still feel OK" is going on a sticky note on my fridge. Thank
                you.
                """),
            Reply("grace_mod", 48, """
                Great thread, Ben. For anyone finding this later: pacing is a skill that takes
                weeks to learn, so be kind to yourself while you practise.
                """),
        ),
    ),
    Conversation(
        "long-covid", "aisha_longcovid", "Going back to work after long COVID", 8.2,
        body="""
            I've been off work for seven months and I'm talking to my school about coming
            back. I love my job but I'm scared of crashing again. Has anyone done a phased
            return? What did you ask for?
            """,
        replies=(
            Reply("noor_lc", 4, """
                I did a phased return over twelve weeks: two short days a week to start. Ask
                for an **occupational health** referral if your employer has one; their
                report made my manager take it seriously.
                """),
            Reply("pat_caregiver", 6, """
                My wife's office agreed to a quiet room for rest breaks and home working on
                her tired days. It's worth asking; the worst they can say is no.
                """),
            Reply("grace_mod", 9, """
                Something that helped me: agree in advance what happens if the plan is too
                much, for example staying at the same hours for longer instead of going up.
                Then slowing down doesn't feel like failing.
                """),
            Reply("aisha_longcovid", 25, """
                These are brilliant, thank you. I have an occupational health appointment
                next week and I'll ask for a plan with a "pause" option built in.
                """),
            Reply("ben_lc", 27, """
                Rooting for you, Aisha. Let us know how the first week goes.
                """),
        ),
    ),
    Conversation(
        "long-covid", "noor_lc", "Heart racing when I stand up — what should I ask my doctor?",
        1.3, kind="ask_clinician",
        body="""
            Since COVID, my heart races and I feel dizzy when I stand up, especially in the
            morning or after a hot shower. I have a GP appointment next week. What should I
            ask, and what should I bring?
            """,
        replies=(
            Reply("nurse_priya", 6, """
                That's a very sensible thing to raise with your GP. A racing heart on standing
                has several possible causes, and some people with long COVID have a condition
                called POTS. Your doctor can look into it.

                Things worth bringing and asking:

                - a short **symptom diary**: when it happens, how long it lasts, what helps
                - a list of all your medicines and supplements
                - ask whether they can measure your heart rate and blood pressure lying down
                  and again after standing for a few minutes (an "active stand test")

                Please don't wait for the appointment if you have chest pain, faint, or feel
                breathless at rest: seek urgent care.
                """),
            Reply("noor_lc", 8, """
                Thank you, this is exactly what I needed. I'll start the diary today.
                """),
            Reply("physio_jonas", 12, """
                To add to Priya's answer: note what you were doing just before each episode
                (standing still, after meals, heat). Those details help a lot when planning
                rehab later.
                """),
        ),
    ),
    Conversation(
        "long-covid", "pat_caregiver", "Supporting my wife through long COVID — what helps?", 36.4,
        body="""
            My wife has had long COVID for two years. I want to help without taking over or
            treating her like she's fragile. For those living with it: what do the people
            around you do that actually helps?
            """,
        replies=(
            Reply("ben_lc", 3, """
                Believing me. Not saying "but you looked fine yesterday". That alone means
                more than anything else.
                """),
            Reply("noor_lc", 5, """
                Taking over the jobs that cost me the most energy (for me, shopping and
                cooking) so I can spend what I have on things I enjoy. And asking before
                helping, so I still feel like me.
                """),
            Reply("aisha_longcovid", 20, """
                Coming to appointments with me and taking notes. Brain fog means I forget half
                of what the doctor said by the time I'm home.
                """),
            Reply("grace_mod", 24, """
                Thank you for asking this, Pat. Look after yourself too: there's a private
                caregivers' circle here if you'd like a space of your own.
                """),
        ),
    ),
    # Caregivers' circle (private) -----------------------------------------------------------
    Conversation(
        "caregivers-circle", "grace_mod", "Welcome to the caregivers' circle", 52.7,
        body="""
            Welcome. This is a private space: only members can see what's written here. It's
            for the things that are hard to say elsewhere, like tiredness, frustration,
            guilt, and the small wins.

            A few simple rules: be kind, keep what others share in the circle, and
            remember that it's OK to talk about *you* here, not just the person you care
            for.
            """,
        replies=(
            Reply("dev_caregiver", 6, """
                Thank you for setting this up. Sometimes I just need to say out loud that it's
                hard, without worrying Dad will read it.
                """),
            Reply("pat_caregiver", 20, """
                Hello all. Two years of caring for my wife, and this is the first place I've
                talked about how I'm doing.
                """),
            Reply("emma_t1mum", 48, """
                Hi everyone. Night checks and school phone calls are my world. Glad to be
                among people who get it.
                """),
        ),
    ),
    Conversation(
        "caregivers-circle", "dev_caregiver", "Guilt about taking a weekend off", 10.3,
        body="""
            My sister has offered to stay with Dad for a weekend so I can go away. I'm
            exhausted, but I feel guilty even thinking about it. What if something happens
            while I'm gone?
            """,
        replies=(
            Reply("pat_caregiver", 2, """
                I felt the same before my first weekend away. Then I realised I was getting
                short-tempered because I was so tired. Resting made me a better carer, not a
                worse one.
                """),
            Reply("emma_t1mum", 5, """
                Write your sister a one-page plan: medicines, who to call, what's normal for
                your dad. It helped me hand over and actually switch off.
                """),
            Reply("grace_mod", 8, """
                Dev, your sister offered because she wants to help. Saying yes lets her. Go,
                and tell us about it afterwards.
                """),
            Reply("dev_caregiver", 30, """
                I said yes. We're writing the one-page plan tonight. Thank you, all of you.
                """),
        ),
    ),
    Conversation(
        "caregivers-circle", "emma_t1mum", "How do you get any sleep?", 3.35,
        body="""
            Between sensor alarms and worrying, I haven't slept a full night in months. My
            partner and I are both running on empty. How do other caregivers manage nights?
            """,
        replies=(
            Reply("pat_caregiver", 4, """
                We take turns: I'm "on call" Monday to Thursday, my son takes the weekends.
                Knowing a night off is coming makes the other nights easier.
                """),
            Reply("dev_caregiver", 10, """
                Earplugs on my nights off, and I told my GP how tired I was. Carers count as
                patients too.
                """),
        ),
    ),
)  # fmt: skip


def _text(block: str) -> str:
    """A body as written above, without the indentation (markdown would read it as code)."""
    return inspect.cleandoc(block)


async def _viewer(user_id: int) -> Viewer:
    """The Viewer a request from this person would get, with their current memberships."""
    viewer = await accounts.load_viewer(user_id, await accounts.session_epoch(user_id))
    assert viewer is not None
    return viewer


async def has_content() -> bool:
    """True when the site already has a community, so `kindred demo --if-empty` leaves it be."""
    return await Community.count() > 0


async def seed(settings: Settings) -> str:
    """Add the demo communities, people and conversations; returns a one-line summary."""
    usernames = [person.username for person in PEOPLE]
    slugs = [community.slug for community in COMMUNITIES]
    taken = await User.exists().where(User.username.is_in(usernames))
    if taken or await Community.exists().where(Community.slug.is_in(slugs)):
        raise Conflict("The demo data, or part of it, is already on this site.")
    # The demo posts a hundred messages in a second; real limits would stop it halfway.
    settings = settings.with_changes(
        rate_limits={name: RateLimit(100_000, 60) for name in settings.rate_limits}
    )
    now = datetime.now(UTC)
    # One transaction (the services' own nest inside it): all or nothing, and on SQLite one
    # commit instead of hundreds.
    async with db.transaction():
        ids = await _add_people_and_communities(settings)
        await _add_expertise(ids, now)  # before posting: answers record their credential
        replies = await _add_conversations(settings, ids, now)
        await _add_reactions(settings, ids)
        await _add_stories(settings, ids, now)
        await _date_notifications()
        # People and communities were there before the first conversation, not made today.
        since = now - timedelta(days=SITE_AGE_DAYS)
        await User.update({User.created_at: since}).where(User.id.is_in(list(ids.values())))
        await Membership.update({Membership.joined_at: since}).where(
            Membership.user.is_in(list(ids.values()))
        )
        await Community.update({Community.created_at: since}).where(Community.slug.is_in(slugs))
    return (
        f"{len(COMMUNITIES)} communities, {len(PEOPLE)} people, {len(CONVERSATIONS)} "
        f"conversations, {replies} replies (the administrator is {ADMIN})"
    )


async def _add_people_and_communities(settings: Settings) -> dict[str, int]:
    """Register everyone, create the communities, appoint moderators; returns ids by username."""
    ids: dict[str, int] = {}
    for person in PEOPLE:
        registration = accounts.Registration(
            username=person.username, password=PASSWORD, display_name=person.display_name
        )
        user = await accounts.register(settings, registration, role=person.role)
        ids[person.username] = user["id"]
    admin = await _viewer(ids[ADMIN])
    for community in COMMUNITIES:
        await communities.create_community(
            admin,
            slug=community.slug,
            name=community.name,
            description=community.description,
            visibility=community.visibility,
        )
    private = {c.slug for c in COMMUNITIES if c.visibility == "private"}
    for person in PEOPLE:
        for slug in person.moderates:
            await communities.add_member(admin, slug, person.username, role="moderator")
        for slug in person.joins:
            if slug in private:
                await communities.add_member(admin, slug, person.username)
            else:
                await communities.join(await _viewer(ids[person.username]), slug)
        if person.bio:
            await accounts.update_profile(await _viewer(ids[person.username]), bio=person.bio)
    return ids


async def _add_conversations(settings: Settings, ids: dict[str, int], now: datetime) -> int:
    """Post every conversation, then move its posts back in time; returns the reply count."""
    # Loaded after joining: memberships live in the Viewer.
    viewers = {username: await _viewer(user_id) for username, user_id in ids.items()}
    replies = 0
    for conversation in CONVERSATIONS:
        started = now - timedelta(days=conversation.days_ago)
        draft = threads.Draft(
            title=conversation.title, body=_text(conversation.body), kind=conversation.kind
        )
        thread = await threads.start_thread(
            settings, viewers[conversation.author], conversation.community, draft
        )
        await Post.update({Post.created_at: started}).where(Post.id == thread["post_id"])
        last = started
        for reply in conversation.replies:
            post = await threads.post_reply(
                settings, viewers[reply.author], thread["id"], _text(reply.body)
            )
            last = started + timedelta(hours=reply.hours)
            await Post.update({Post.created_at: last}).where(Post.id == post["id"])
            replies += 1
        await Thread.update({Thread.created_at: started, Thread.last_activity_at: last}).where(
            Thread.id == thread["id"]
        )
    return replies


# People and expertise ------------------------------------------------------------------------

# The clinicians apply and the administrator verifies them, as on a real site.
VERIFIED = (
    ("nurse_priya", "Heart failure nurse", "cardiology", ()),
    ("dr_okafor", "Endocrinologist", "endocrinology", ("paediatrics", "nutrition")),
    ("physio_jonas", "Physiotherapist", "rehabilitation", ("respiratory",)),
)
# (who, community, relation, years ago or a year, treatments, note)
EXPERIENCE = (
    ("helen_gf", "celiac", "patient", 2004, ("gluten free diet",), "Keen baker."),
    ("maria_celiac", "celiac", "patient", 0, (), "Diagnosed this year."),
    ("kofi_t1", "celiac", "patient", 2013, (), ""),
    ("kofi_t1", "type-1-diabetes", "patient", 2006, ("pump user",), ""),
    ("emma_t1mum", "type-1-diabetes", "parent", 3, (), "My son was diagnosed at six."),
    ("lena_t1", "type-1-diabetes", "patient", 2003, ("pens",), ""),
    ("rosa_hf", "heart-failure", "patient", 2019, ("ICD",), ""),
    ("dev_caregiver", "heart-failure", "caregiver", 1, (), "Caring for my dad."),
    ("grace_mod", "long-covid", "patient", 2021, ("pacing",), ""),
    ("noor_lc", "long-covid", "patient", 2022, ("pacing",), ""),
)
# (who vouches or confirms, whose tag, community)
VOUCHES = (
    ("walter_heart", "rosa_hf", "heart-failure"),
    ("dev_caregiver", "rosa_hf", "heart-failure"),
    ("maria_celiac", "helen_gf", "celiac"),
)
CONFIRMS = (("tom_moderator", "helen_gf", "celiac"),)
# (conversation title, whose post, who reacts, kind)
REACTIONS = (
    ("Does daily weighing really matter?", "nurse_priya", "dev_caregiver", "helpful"),
    ("Does daily weighing really matter?", "nurse_priya", "rosa_hf", "helpful"),
    ("Does daily weighing really matter?", "nurse_priya", "walter_heart", "helpful"),
    ("Does daily weighing really matter?", "dev_caregiver", "rosa_hf", "support"),
    ("Gluten free restaurants when travelling?", "helen_gf", "maria_celiac", "helpful"),
    ("Gluten free restaurants when travelling?", "helen_gf", "emma_t1mum", "helpful"),
    ("Gluten free restaurants when travelling?", "maria_celiac", "kofi_t1", "support"),
    ("First year after diagnosis — what helped you?", "helen_gf", "maria_celiac", "helpful"),
    ("First year after diagnosis — what helped you?", "kofi_t1", "maria_celiac", "me_too"),
    (
        "My son has type 1 — should he be tested for celiac too?",
        "dr_okafor",
        "emma_t1mum",
        "helpful",
    ),
)
# (conversation title, the asker, whose reply they accept)
ACCEPTED = (
    ("Does daily weighing really matter?", "dev_caregiver", "nurse_priya"),
    ("My son has type 1 — should he be tested for celiac too?", "emma_t1mum", "dr_okafor"),
)


async def _add_expertise(ids: dict[str, int], now: datetime) -> None:
    """Verify the clinicians and add experience tags, vouches and a confirmation."""
    admin = await _viewer(ids[ADMIN])
    for username, profession, specialty, others in VERIFIED:
        application = await clinicians.apply(
            await _viewer(ids[username]),
            clinicians.Application(
                profession=profession,
                specialty=specialty,
                license_region="United Kingdom",
                license_number=f"DEMO-{ids[username]:05d}",
                other_specialties=others,
            ),
        )
        await clinicians.decide(admin, application["id"], "approve", "Checked in the register.")
    tags: dict[tuple[str, str], int] = {}
    for username, slug, relation, year, treatments, note in EXPERIENCE:
        since = year if year > 1900 else now.year - year
        tag, _ = await experience.declare(
            await _viewer(ids[username]),
            slug,
            relation,
            since=since,
            treatments=list(treatments),
            note=note,
        )
        tags[(username, slug)] = tag["id"]
    for voucher, owner, slug in VOUCHES:
        await experience.vouch(await _viewer(ids[voucher]), tags[(owner, slug)])
    for moderator, owner, slug in CONFIRMS:
        await experience.confirm(await _viewer(ids[moderator]), tags[(owner, slug)])


async def _post_of(title: str, author_id: int) -> tuple[int, int]:
    thread = await Thread.select(Thread.id).where(Thread.title == title).first()
    assert thread is not None, title
    post = (
        await Post.select(Post.id)
        .where((Post.thread == thread["id"]) & (Post.author == author_id))
        .order_by(Post.id)
        .first()
    )
    assert post is not None, (title, author_id)
    return thread["id"], post["id"]


async def _add_reactions(settings: Settings, ids: dict[str, int]) -> None:
    """A few reactions, and the askers' accepted answers."""
    for title, author, reactor, kind in REACTIONS:
        _, post_id = await _post_of(title, ids[author])
        await reactions.react(settings, await _viewer(ids[reactor]), post_id, kind)
    for title, asker, answerer in ACCEPTED:
        thread_id, post_id = await _post_of(title, ids[answerer])
        await answers.accept_answer(await _viewer(ids[asker]), thread_id, post_id)


# Stories ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoStory:
    author: str
    community: str  # "" for the author's blog alone
    title: str
    summary: str
    body: str
    days_ago: float
    warnings: tuple[str, ...] = ()
    comments: tuple[tuple[str, str], ...] = ()  # (who, what)


STORIES = (
    DemoStory(
        "helen_gf",
        "celiac",
        "The first year after my diagnosis",
        "Twenty years on, what I wish someone had told me in the first twelve months.",
        """
        ## The first weeks

        I cried in the bread aisle. Twice. Nobody tells you that the hardest part is not
        the food itself but the *feeling* that every meal now needs a plan.

        ## What changed

        - I learned to read labels in under a minute. It takes practice, then it is habit.
        - I stopped apologising at restaurants and started asking plainly.
        - I found two friends who ate the same way, and everything got lighter.

        > It gets easier. Not all at once, but it does.

        A dietitian told me that in my second month, and she was right. If you are new here:
        ask anything. Someone in this community has asked it before you.
        """,
        days_ago=40,
        comments=(
            ("maria_celiac", "I read this at 2 a.m. after my own diagnosis. Thank you, Helen."),
            ("kofi_t1", "The bread aisle! Same. It really does get easier."),
        ),
    ),
    DemoStory(
        "dev_caregiver",
        "heart-failure",
        "Bringing Dad home from hospital",
        "The day of my father's discharge, and the weeks that followed.",
        """
        Dad spent eleven days on the cardiology ward. I want to write down what the day he
        came home was like, because I was not ready, and maybe the next person can be.

        ## The discharge

        The letter was four pages long. His medicines changed; two new ones, one stopped.
        The nurse went through it with us slowly, and I am glad I wrote questions down
        beforehand, because I forgot half of them in the moment.

        ## At home

        The first nights I kept waking to check his breathing. We weigh him every morning
        now, before breakfast, and write it in a notebook on the fridge. When it went up
        two kilos in three days, we called the heart failure team, and they adjusted his
        water tablet before it became another admission.

        > Ask for the name and number of the team you can call. Keep it on the fridge too.

        Dad read this before I posted it, and said I could share it.
        """,
        days_ago=12,
        warnings=("a parent seriously ill in hospital",),
        comments=(
            (
                "rosa_hf",
                "The notebook on the fridge saved me more than once too. Hugs to you both.",
            ),
            (
                "nurse_priya",
                "This is such a useful account. Weighing daily and calling early is exactly "
                "what we hope people do.",
            ),
        ),
    ),
    DemoStory(
        "rosa_hf",
        "",
        "Gardening with a tired heart",
        "How I kept my garden after my diagnosis, a little at a time.",
        """
        My doctor said to keep doing what I love, just in smaller pieces. So the garden
        became ten minutes in the morning and ten in the evening, with a stool to sit on.

        The tomatoes did not mind at all.
        """,
        days_ago=25,
    ),
)


async def _add_stories(settings: Settings, ids: dict[str, int], now: datetime) -> None:
    """Publish the demo stories (consent confirmed, as their authors would), then comment."""
    for item in STORIES:
        viewer = await _viewer(ids[item.author])
        story = await stories.create_story(
            settings,
            viewer,
            stories.StoryDraft(
                title=item.title,
                summary=item.summary,
                body=_text(item.body),
                community=item.community,
                content_warnings=list(item.warnings),
            ),
            publish=True,
            confirm_consent=True,
        )
        published = now - timedelta(days=item.days_ago)
        await Story.update(
            {
                Story.created_at: published,
                Story.updated_at: published,
                Story.published_at: published,
                Story.consent_confirmed_at: published,
            }
        ).where(Story.id == story["id"])
        for number, (who, text) in enumerate(item.comments, start=1):
            comment = await stories.post_comment(
                settings, await _viewer(ids[who]), story["id"], text
            )
            await StoryComment.update(
                {StoryComment.created_at: published + timedelta(hours=5 * number)}
            ).where(StoryComment.id == comment["id"])


async def _date_notifications() -> None:
    """Notifications carry the time of what they are about, not the moment the demo ran."""
    for column, source in (
        ("post_id", 'SELECT p."created_at" FROM "post" p WHERE p."id" = "notification"."post_id"'),
        (
            "comment_id",
            'SELECT c."created_at" FROM "story_comment" c WHERE c."id" = "notification"."comment_id"',
        ),
        (
            "story_id",
            'SELECT s."published_at" FROM "story" s WHERE s."id" = "notification"."story_id" '
            'AND "notification"."comment_id" IS NULL',
        ),
    ):
        await db.raw(
            f'UPDATE "notification" SET "created_at" = ({source}) WHERE "{column}" IS NOT NULL '
            f'AND ({source}) IS NOT NULL AND "kind" <> {{}}',
            "reaction",
        )
