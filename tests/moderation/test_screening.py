"""screen(draft) -> Verdict, family by family: positives, and hard negatives that share their words.

Pure: no database, no app. The labelled set (test_quality.py) measures the same rules more widely.
"""

from __future__ import annotations

import pytest

from moderation import Draft, Standing, default_rules, load_rules, redact_phi, screen
from moderation.screening import STAFF

MEMBER = Standing(role="member", trust_level=1, account_age_days=90, published_posts=10)


def families(text: str, author: Standing = MEMBER) -> set[str]:
    return {hit.family for hit in screen(Draft(text=text, author=author)).hits}


def rules_fired(text: str) -> set[str]:
    return {hit.rule for hit in screen(Draft(text=text, author=MEMBER)).hits}


# Misinformation ------------------------------------------------------------------------------

MISINFORMATION = [
    ("Stop your insulin, cinnamon cured me.", "stop-insulin-natural-cure"),
    ("you dont need insulin if you eat right, cinnamon reversed mine", "stop-insulin-natural-cure"),
    ("Vaccines caused my son's autism.", "vaccines-cause-autism"),
    ("Drinking chlorine dioxide every morning kills any virus.", "mms-chlorine-dioxide"),
    ("Baking soda dissolves tumours, use it instead of chemo.", "baking-soda-cures-cancer"),
    ("Apricot kernels are the real cure for cancer.", "apricot-kernels-laetrile"),
    ("HIV doesn't cause AIDS, the drugs do.", "hiv-aids-denial"),
    ("Colloidal silver cures infections better than antibiotics.", "colloidal-silver"),
    ("Statins are poison.", "statins-are-poison"),
    ("Just stop your sertraline cold turkey.", "stop-antidepressants-abruptly"),
    ("Ditch the warfarin and take garlic instead.", "stop-blood-thinners"),
    ("Nattokinase cured my long covid.", "long-covid-supplement-cure"),
    ("Throw away your inhaler, Buteyko breathing cured my asthma.", "stop-asthma-inhaler"),
]
# The same words, reported, questioned, denied or debunked.
MISINFORMATION_NEGATIVES = [
    "My doctor explained why baking soda doesn't cure cancer.",
    "Is it true that cinnamon can replace insulin?",
    "My aunt keeps saying cinnamon cures diabetes; I take my insulin.",
    "There is no evidence that vaccines cause autism; the study was retracted.",
    "Please never drink MMS, it is bleach.",
    "My endocrinologist reduced my insulin after I lost weight on a low carb diet.",
    "I came off sertraline slowly over three months with my GP, tapering by 25mg.",
    "Colloidal silver turned my uncle's skin blue-grey, please don't take it.",
    "HIV is no longer a death sentence thanks to treatment.",
    "The myth that sugar feeds cancer scared me off fruit for a year.",
    "> baking soda cures cancer\n\nThis is false, and people have died trusting it.",
    "Chemo saved my life; anyone who says chemo kills more than cancer has never seen a ward.",
    "I was scared the MMR would cause autism, but we vaccinated.",
    "Insulin saved my life at 12 and it still does every day.",
]


@pytest.mark.parametrize(("text", "rule"), MISINFORMATION)
def test_misinformation_claims_fire_in_varied_wording(text, rule):
    assert rule in rules_fired(text)


@pytest.mark.parametrize("text", MISINFORMATION_NEGATIVES)
def test_reporting_questioning_or_debunking_a_claim_does_not_fire(text):
    assert "misinformation" not in families(text)


def test_the_claim_library_has_forty_or_more_claims_each_explained_with_a_source():
    claims = default_rules().claims
    assert len(claims) >= 40
    assert len({claim.id for claim in claims}) == len(claims)
    for claim in claims:
        assert claim.explanation and claim.source_url.startswith("https://"), claim.id
        assert claim.action in ("label", "hold")


def test_dangerous_claims_are_held_and_others_labelled():
    assert (
        screen(Draft(text="Stop your insulin, cinnamon cured me.", author=MEMBER)).action == "hold"
    )
    labelled = screen(Draft(text="Statins are poison.", author=MEMBER))
    assert labelled.action == "label" and "moderator will review" in labelled.label


def test_the_title_is_screened_too():
    verdict = screen(Draft(title="Baking soda cures cancer!", text="Here is why.", author=MEMBER))
    assert "baking-soda-cures-cancer" in {hit.rule for hit in verdict.hits}


# Personal health information ---------------------------------------------------------------

PHI = [
    ("You can call me on 07700 900123.", "phone-number"),
    ("My number is (555) 123-4567, text anytime.", "phone-number"),
    ("Email me at maria.lopez82@gmail.com", "email-address"),
    ("I live at 42 Oakfield Road, Bristol.", "street-address"),
    ("My DOB is 03/04/1985.", "date-of-birth"),
    ("My MRN is 00482913 at St Mary's.", "record-number"),
    ("Insurance member ID: XHG884512093", "record-number"),
    ("My neighbour Jane Doe has breast cancer.", "name-with-diagnosis"),
    ("Maria Lopez in our group was diagnosed with HIV.", "name-with-diagnosis"),
]
PHI_NEGATIVES = [
    "My A1c went from 9.1 to 6.5 in a year.",
    "I take 1000 mg of metformin twice a day.",
    "Blood pressure this morning was 128/84.",
    "I was diagnosed in 2019 and started insulin in 2020.",
    "My son was born in 2010 and diagnosed at 4.",
    "Email the charity at info@coeliac.org.uk for their guide.",
    "Dr Sarah Jones diagnosed my celiac.",
    "I have Crohn's disease and Parkinson's runs in my family.",
    "I asked for my medical record and they sent 40 pages.",
    "My insurance number changed when I switched jobs.",
    "We had appointments on 12/05/2023 and 14/06/2023.",
    "Ring 111 if you're unsure, or 999 in an emergency.",
]


@pytest.mark.parametrize(("text", "rule"), PHI)
def test_personal_details_are_found(text, rule):
    assert rule in rules_fired(text)


@pytest.mark.parametrize("text", PHI_NEGATIVES)
def test_numbers_and_names_that_are_not_personal_details_pass(text):
    assert "phi" not in families(text)


def test_personal_details_warn_first_then_hold_if_the_author_insists():
    warned = screen(Draft(text="Call me on 07700 900123", author=MEMBER))
    assert warned.action == "reject" and warned.phi_warning and not warned.stored
    insisted = screen(Draft(text="Call me on 07700 900123", author=MEMBER, confirm_phi=True))
    assert insisted.action == "hold" and insisted.stored


def test_remove_it_for_me_takes_out_only_the_details():
    text = "Call me on 07700 900123 or write to maria.lopez82@gmail.com. My neighbour Jane Doe has cancer."
    assert redact_phi(text) == (
        "Call me on [removed] or write to [removed]. My neighbour [name removed] has cancer."
    )
    assert "phi" not in families(redact_phi(text))


# Crisis -----------------------------------------------------------------------------------------

CRISIS = [
    "I can't go on.",
    "I want to kill myself.",
    "Everyone would be better off without me.",
    "I've been thinking about ending it all.",
    "I have been cutting myself again.",
    "Honestly I wish I was dead.",
    "I've started saving up my pills.",
    "There's no reason to live anymore.",
    "My daughter told me she wants to die.",
    "Some nights I just want to go to sleep and never wake up.",
    "I took an overdose last night.",
]
FIGURES_OF_SPEECH = [
    "This diet is killing me.",
    "My feet are killing me.",
    "I'm dying to try the new bakery.",
    "I want to take my life back from this illness.",
    "I've been cutting myself some slack this week.",
    "I cut myself chopping onions.",
    "My friend died by suicide two years ago.",
    "The leaflet warns about suicidal thoughts as a side effect.",
    "I can't go on the trip because of my treatment.",
    "We're stockpiling my meds before the hurricane.",
    "Killing myself laughing at this thread.",
    "I took a double dose by accident, is that an overdose?",
]


@pytest.mark.parametrize("text", CRISIS)
def test_crisis_language_escalates(text):
    verdict = screen(Draft(text=text, author=MEMBER))
    assert verdict.action == "escalate" and verdict.crisis
    assert any(resource.url for resource in verdict.resources)


@pytest.mark.parametrize("text", FIGURES_OF_SPEECH)
def test_figures_of_speech_do_not_fire(text):
    assert "crisis" not in families(text)


def test_crisis_never_blocks_even_with_other_problems():
    with_phi = screen(Draft(text="I can't go on. Call me on 07700 900123.", author=MEMBER))
    assert with_phi.stored and with_phi.action == "hold" and with_phi.resources
    with_block = screen(Draft(text="I want to kill myself. kys", author=MEMBER))
    assert with_block.stored and with_block.resources


# Watched words, links and new accounts -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("Buy cheap oxycodone online, DM me.", "reject"),
        ("Online casino bonus codes here", "hold"),
        ("Use my discount code SAVE20 for the supplements", "hold"),
        ("This nurse is a moron.", "publish"),  # flagged: published and queued
        ("What the fuck is wrong with the pharmacy", "publish"),  # censored
    ],
)
def test_watched_words_take_their_lists_action(text, action):
    verdict = screen(Draft(text=text, author=MEMBER))
    assert verdict.action == action and "watched_word" in {hit.family for hit in verdict.hits}


def test_flagged_words_publish_but_go_to_the_queue_and_censored_words_are_starred():
    flagged = screen(Draft(text="This nurse is a moron.", author=MEMBER))
    assert flagged.review
    censored = screen(Draft(text="What the fuck is this", author=MEMBER))
    assert censored.text == "What the f*** is this" and not censored.review


@pytest.mark.parametrize(
    "text",
    [
        "Shiitake mushrooms are gluten free.",
        "Scunthorpe hospital has a great coeliac clinic.",
        "I passed my assessment.",
        "Flame retardant pyjamas give my son a rash.",
        "My stroke was cryptogenic.",
        "Oxycodone after surgery made me nauseous.",
    ],
)
def test_words_inside_other_words_do_not_fire(text):
    assert "watched_word" not in families(text)


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("Read this: https://bit.ly/3xYz12", "hold"),
        ("Join us at t.me/curegroup", "hold"),
        ("Full story at https://www.naturalnews.com/2024-cure.html", "reject"),
        ("The NHS page https://www.nhs.uk/conditions/coeliac-disease/ explains it.", "publish"),
        ("The bit.ly link in that post is broken.", "publish"),
    ],
)
def test_link_rules(text, action):
    assert screen(Draft(text=text, author=MEMBER)).action == action


NEW = Standing(role="member", trust_level=0, account_age_days=0.1)


def test_new_members_links_beyond_the_limit_are_held_but_health_sources_dont_count():
    links = " ".join(f"https://example.org/page{number}" for number in range(3))
    assert screen(Draft(text=links, author=NEW)).action == "hold"
    assert screen(Draft(text=links, author=MEMBER)).action == "publish"
    sources = " ".join(f"https://www.nhs.uk/page{number}" for number in range(5))
    assert screen(Draft(text=sources, author=NEW)).action == "publish"


def test_new_members_images_are_held():
    verdict = screen(Draft(text="Look: ![rash](https://example.org/rash.jpg)", author=NEW))
    assert verdict.action == "hold" and verdict.hits[0].rule == "new-member-images"


def test_new_members_daily_post_limit_refuses_with_the_text_kept():
    busy = Standing(role="member", trust_level=0, posts_today=10)
    verdict = screen(Draft(text="One more question", author=busy))
    assert verdict.action == "reject" and "tomorrow" in verdict.message


def test_staff_are_exempt_from_holds_and_clinicians_from_new_member_limits():
    assert (
        screen(Draft(text="Stop your insulin, cinnamon cured me.", author=STAFF)).action == "label"
    )
    links = " ".join(f"https://example.org/page{number}" for number in range(5))
    clinician = Standing(role="clinician", trust_level=0)
    assert screen(Draft(text=links, author=clinician)).action == "publish"
    assert (
        screen(Draft(text="Stop your insulin, cinnamon cured me.", author=clinician)).action
        == "hold"
    )


# Rules as data --------------------------------------------------------------------------------------


def test_a_deployment_adds_claims_and_replaces_crisis_resources(tmp_path):
    (tmp_path / "misinformation.toml").write_text(
        '[[claim]]\nid = "magnets-cure"\ntitle = "Magnets cure arthritis"\naction = "hold"\n'
        'explanation = "No."\nsource_url = "https://www.nhs.uk/"\n'
        'match = [[["magnet*"], ["@cure"], ["arthritis"]]]\n'
    )
    (tmp_path / "crisis_resources.toml").write_text(
        'heading = "Hjelp"\nmessage = "Ring."\n[[resource]]\nname = "Mental Helse"\ncontact = "116 123"\n'
    )
    rules = load_rules(tmp_path)
    assert len(rules.claims) == len(default_rules().claims) + 1
    verdict = screen(Draft(text="Magnets cured my arthritis.", author=MEMBER), rules)
    assert verdict.action == "hold"
    crisis = screen(Draft(text="I can't go on.", author=MEMBER), rules)
    assert [resource.name for resource in crisis.resources] == ["Mental Helse"]
    assert load_rules(tmp_path) is rules  # compiled once per content


def test_hold_first_posts_can_be_switched_on(tmp_path):
    (tmp_path / "trust.toml").write_text("[limits.0]\nhold_first_posts = 2\n")
    rules = load_rules(tmp_path)
    first = screen(Draft(text="Hello everyone", author=NEW), rules)
    assert first.action == "hold" and first.hits[0].rule == "first-posts"
    seasoned = Standing(role="member", trust_level=0, published_posts=2)
    assert screen(Draft(text="Hello again", author=seasoned), rules).action == "publish"


def test_every_verdict_names_its_rules_in_api_shape():
    verdict = screen(Draft(text="Statins are poison. Call me on 07700 900123.", author=MEMBER))
    data = verdict.as_json()
    assert data["action"] == "reject"
    assert {(r["family"], r["rule"]) for r in data["reasons"]} >= {
        ("misinformation", "statins-are-poison"),
        ("phi", "phone-number"),
    }
    assert all(set(r) == {"family", "rule", "message"} for r in data["reasons"])
