"""Words and figures the data set generator draws from: recommendation themes, phrasings by action category,
calibration figures from the real UPR Info data (sessions 1–20), organisation names and assessment comments.

Every string here is invented or generic UPR wording; nothing is copied from the real data. The figures are
aggregates (counts, percentages) published in ../shared/data/real/SOURCES.md or computed from those files.
"""

from typing import NamedTuple

# McMahon action categories 1..5 among the 41,066 recommendations of sessions 1–20, and the share accepted in each.
ACTION_CATEGORY_COUNTS = (603, 6981, 3449, 16261, 13772)
ACCEPTED_SHARE_BY_CATEGORY = (0.9602, 0.9556, 0.5738, 0.8424, 0.5479)
# Voluntary pledges (947 of 42,013 rows) and the action categories UPR Info gave them.
PLEDGE_SHARE = 947 / 42013
PLEDGE_ACTION_CATEGORY_COUNTS = (20, 153, 73, 373, 328)
# Recommendations with 1..6 issues (20,087 have one; mean 1.78 issues).
ISSUE_COUNT_FREQUENCIES = (20087, 13169, 5602, 1479, 517, 212)
# How many states share one recommendation (the UN report joins identical recommendations in one paragraph).
RECOMMENDING_STATE_COUNT_FREQUENCIES = (86, 9, 3.5, 1.5)
# Typical number of recommendations per review, by cycle (cycle 1 averaged 111, session 13–20 reviews 176).
RECOMMENDATIONS_PER_REVIEW = {1: 110, 2: 175, 3: 230, 4: 260}
REVIEWS_PER_SESSION = 14

# Issue tags in sessions 1–20: how often each of UPR Info's 54 issues was used.
ISSUE_FREQUENCIES = {
    "International instruments": 8401,
    "Women's rights": 7492,
    "Rights of the Child": 7027,
    "Justice": 3162,
    "Torture and other CID treatment": 3109,
    "Detention": 2560,
    "Right to education": 2044,
    "Minorities": 1866,
    "Labour": 1852,
    "Migrants": 1802,
    "Death penalty": 1755,
    "Human rights education and training": 1665,
    "Racial discrimination": 1576,
    "Special procedures": 1561,
    "NHRI": 1502,
    "Trafficking": 1491,
    "Disabilities": 1435,
    "ESC rights - general": 1265,
    "Right to health": 1262,
    "Freedom of opinion and expression": 1234,
    "Treaty bodies": 1229,
    "Technical assistance and cooperation": 1086,
    "Freedom of the press": 981,
    "Other": 968,
    "Freedom of religion and belief": 958,
    "Sexual Orientation and Gender Identity": 921,
    "Poverty": 905,
    "Development": 836,
    "Enforced disappearances": 833,
    "Civil society": 806,
    "Indigenous peoples": 783,
    "Freedom of association and peaceful assembly": 723,
    "CP rights - general": 681,
    "Asylum-seekers - refugees": 659,
    "General": 643,
    "National plan of action": 628,
    "Human rights defenders": 621,
    "Human rights violations by state agents": 581,
    "UPR process": 543,
    "International humanitarian law": 451,
    "Impunity": 383,
    "Public security": 277,
    "Right to food": 261,
    "Elections": 254,
    "HIV - Aids": 254,
    "Extrajudicial executions": 246,
    "Right to housing": 238,
    "Corruption": 233,
    "Internally displaced persons": 179,
    "Right to land": 175,
    "Environment": 175,
    "Right to water": 172,
    "Counter-terrorism": 155,
    "Freedom of movement": 105,
}


class Theme(NamedTuple):
    """What a recommendation is about: its issues (the first is the main one), a verb and its object.

    A specific theme names a precise act (ratify, adopt, abolish ...) and can stand alone as a category-5
    recommendation; a general one (combat, improve ...) stands alone only as category 4.
    """

    issues: tuple[str, ...]
    verb: str
    object: str
    specific: bool


_S, _G = True, False
THEMES = (
    # International instruments
    Theme(("International instruments", "Torture and other CID treatment"), "ratify",
          "the Optional Protocol to the Convention against Torture", _S),
    Theme(("International instruments", "Enforced disappearances"), "ratify",
          "the International Convention for the Protection of All Persons from Enforced Disappearance", _S),
    Theme(("International instruments", "Migrants"), "ratify",
          "the International Convention on the Protection of the Rights of All Migrant Workers and Members of "
          "Their Families", _S),
    Theme(("International instruments", "Disabilities"), "ratify",
          "the Convention on the Rights of Persons with Disabilities and its Optional Protocol", _S),
    Theme(("International instruments", "Death penalty"), "accede to",
          "the Second Optional Protocol to the International Covenant on Civil and Political Rights", _S),
    Theme(("International instruments", "Rights of the Child"), "ratify",
          "the Optional Protocol to the Convention on the Rights of the Child on a communications procedure", _S),
    Theme(("International instruments", "Women's rights"), "ratify",
          "the Optional Protocol to the Convention on the Elimination of All Forms of Discrimination against "
          "Women", _S),
    Theme(("International instruments", "Women's rights"), "withdraw",
          "its reservations to the Convention on the Elimination of All Forms of Discrimination against Women", _S),
    Theme(("International instruments", "Justice"), "accede to", "the Rome Statute of the International Criminal Court",
          _S),
    Theme(("International instruments", "ESC rights - general"), "ratify",
          "the Optional Protocol to the International Covenant on Economic, Social and Cultural Rights", _S),
    Theme(("International instruments", "Labour"), "ratify", "ILO Convention No. 189 on domestic workers", _S),
    Theme(("International instruments", "Asylum-seekers - refugees"), "accede to",
          "the 1951 Convention relating to the Status of Refugees and its 1967 Protocol", _S),
    Theme(("International instruments", "Indigenous peoples"), "ratify",
          "ILO Convention No. 169 concerning Indigenous and Tribal Peoples", _S),
    Theme(("International instruments",), "ratify", "the core international human rights instruments to which it is "
          "not yet a party", _S),
    Theme(("International instruments", "Racial discrimination"), "ratify",
          "the International Convention on the Elimination of All Forms of Racial Discrimination", _S),
    # Women's rights
    Theme(("Women's rights",), "combat", "violence against women, including domestic violence", _G),
    Theme(("Women's rights",), "adopt", "a comprehensive law on gender equality", _S),
    Theme(("Women's rights",), "increase", "the participation of women in political and public life", _G),
    Theme(("Women's rights",), "eliminate", "discriminatory provisions against women from its legislation", _G),
    Theme(("Women's rights", "Rights of the Child"), "prohibit", "female genital mutilation and child marriage", _S),
    Theme(("Women's rights",), "criminalise", "marital rape", _S),
    # Rights of the Child
    Theme(("Rights of the Child",), "prohibit", "corporal punishment of children in all settings", _S),
    Theme(("Rights of the Child",), "raise", "the minimum age of marriage to 18 years for girls and boys", _S),
    Theme(("Rights of the Child", "Labour"), "eradicate", "child labour, in particular its worst forms", _G),
    Theme(("Rights of the Child",), "guarantee", "free birth registration for all children", _G),
    Theme(("Rights of the Child",), "protect", "children from sexual exploitation and abuse", _G),
    # Justice, torture, detention
    Theme(("Justice",), "strengthen", "the independence of the judiciary", _G),
    Theme(("Justice",), "guarantee", "access to justice and free legal aid for all", _G),
    Theme(("Justice", "Rights of the Child"), "reform", "its juvenile justice system in line with international "
          "standards", _G),
    Theme(("Torture and other CID treatment", "Human rights violations by state agents"), "investigate",
          "all allegations of torture and ill-treatment by law enforcement officials", _S),
    Theme(("Torture and other CID treatment",), "criminalise", "torture in its criminal code, in line with the "
          "Convention against Torture", _S),
    Theme(("Detention",), "improve", "conditions of detention, in particular prison overcrowding", _G),
    Theme(("Detention",), "end", "the use of pre-trial detention beyond the limits set by law", _G),
    # Education, minorities, labour, migrants
    Theme(("Right to education", "Rights of the Child"), "guarantee", "free and compulsory primary education for "
          "all children", _G),
    Theme(("Right to education",), "improve", "access to quality education in rural areas", _G),
    Theme(("Minorities",), "protect", "the rights of persons belonging to national, ethnic and religious minorities",
          _G),
    Theme(("Labour",), "guarantee", "the rights of workers to organise and bargain collectively", _G),
    Theme(("Migrants",), "protect", "the rights of migrant workers, in particular domestic workers", _G),
    # Death penalty
    Theme(("Death penalty",), "establish", "a moratorium on executions with a view to abolishing the death penalty",
          _S),
    Theme(("Death penalty",), "abolish", "the death penalty", _S),
    Theme(("Death penalty",), "commute", "all death sentences to terms of imprisonment", _S),
    # Human rights education, discrimination
    Theme(("Human rights education and training",), "include", "human rights education in school curricula", _S),
    Theme(("Human rights education and training",), "train", "police officers, judges and prosecutors in human rights",
          _G),
    Theme(("Racial discrimination",), "adopt", "a comprehensive anti-discrimination law", _S),
    Theme(("Racial discrimination",), "combat", "racism, xenophobia and hate speech", _G),
    # Cooperation with the UN human rights system
    Theme(("Special procedures",), "extend", "a standing invitation to the special procedures of the Human Rights "
          "Council", _S),
    Theme(("Special procedures",), "accept", "the pending visit requests of the special procedures", _S),
    Theme(("Treaty bodies",), "submit", "its overdue reports to the treaty bodies", _S),
    Theme(("Treaty bodies",), "cooperate", "fully with the United Nations treaty bodies", _G),
    Theme(("Technical assistance and cooperation",), "strengthen", "its cooperation with the Office of the High "
          "Commissioner for Human Rights", _G),
    Theme(("UPR process", "Civil society"), "involve", "civil society in the follow-up to the universal periodic "
          "review", _G),
    # Institutions and plans
    Theme(("NHRI",), "establish", "a national human rights institution in line with the Paris Principles", _S),
    Theme(("NHRI",), "strengthen", "the mandate and resources of its national human rights commission", _G),
    Theme(("National plan of action",), "adopt", "a national action plan on human rights", _S),
    # Trafficking, disabilities
    Theme(("Trafficking",), "combat", "trafficking in persons, in particular women and children", _G),
    Theme(("Trafficking", "National plan of action"), "adopt", "a national action plan against trafficking in persons",
          _S),
    Theme(("Disabilities",), "ensure", "the inclusion of persons with disabilities in education and employment", _G),
    # Economic, social and cultural rights
    Theme(("ESC rights - general",), "implement", "policies that guarantee economic, social and cultural rights for "
          "all", _G),
    Theme(("Right to health", "Women's rights"), "reduce", "maternal and infant mortality", _G),
    Theme(("Right to health",), "improve", "access to health care services in rural areas", _G),
    Theme(("Poverty",), "reduce", "poverty, especially among women and in rural areas", _G),
    Theme(("Development",), "integrate", "human rights into its national development strategy", _G),
    Theme(("Right to food",), "guarantee", "the right to adequate food for all", _G),
    Theme(("Right to housing",), "prevent", "forced evictions and homelessness", _G),
    Theme(("Right to water",), "guarantee", "access to safe drinking water and sanitation", _G),
    Theme(("Right to land", "Indigenous peoples"), "secure", "the land rights of rural communities and indigenous "
          "peoples", _G),
    Theme(("Environment",), "address", "the effects of climate change on the enjoyment of human rights", _G),
    Theme(("HIV - Aids",), "improve", "access to HIV prevention and treatment services", _G),
    # Civil and political freedoms
    Theme(("Freedom of opinion and expression",), "guarantee", "freedom of expression online and offline", _G),
    Theme(("Freedom of opinion and expression", "Freedom of the press"), "decriminalise", "defamation", _S),
    Theme(("Freedom of the press",), "protect", "journalists and media workers from harassment and violence", _G),
    Theme(("Freedom of religion and belief",), "guarantee", "freedom of religion or belief for all", _G),
    Theme(("Sexual Orientation and Gender Identity",), "decriminalise", "consensual same-sex relations between adults",
          _S),
    Theme(("Sexual Orientation and Gender Identity",), "combat", "discrimination based on sexual orientation and "
          "gender identity", _G),
    Theme(("Freedom of association and peaceful assembly",), "guarantee", "the right to freedom of peaceful assembly "
          "and association", _G),
    Theme(("CP rights - general",), "harmonise", "its legislation with the International Covenant on Civil and "
          "Political Rights", _G),
    Theme(("Civil society",), "create", "a safe and enabling environment for civil society", _G),
    Theme(("Human rights defenders",), "protect", "human rights defenders from threats and reprisals", _G),
    Theme(("Indigenous peoples",), "guarantee", "the right of indigenous peoples to free, prior and informed "
          "consultation", _G),
    Theme(("Elections",), "ensure", "free, fair and transparent elections", _G),
    Theme(("Freedom of movement",), "lift", "the restrictions on freedom of movement", _S),
    # Security, impunity, conflict
    Theme(("Enforced disappearances",), "investigate", "all cases of enforced disappearance promptly and "
          "impartially", _S),
    Theme(("Extrajudicial executions", "Impunity"), "investigate", "all allegations of extrajudicial executions", _S),
    Theme(("Human rights violations by state agents",), "hold", "accountable the members of the security forces "
          "responsible for human rights violations", _G),
    Theme(("Impunity",), "end", "impunity for crimes committed by the security forces", _G),
    Theme(("Public security",), "reform", "the police and security forces", _G),
    Theme(("International humanitarian law",), "respect", "international humanitarian law in the conduct of "
          "military operations", _G),
    Theme(("Asylum-seekers - refugees",), "respect", "the principle of non-refoulement", _G),
    Theme(("Internally displaced persons",), "guarantee", "the rights of internally displaced persons, including "
          "their safe return", _G),
    Theme(("Corruption",), "combat", "corruption in the public administration and the judiciary", _G),
    Theme(("Counter-terrorism",), "bring", "its counter-terrorism legislation in line with international human rights "
          "standards", _G),
    # Catch-alls
    Theme(("General",), "strengthen", "the promotion and protection of human rights in the country", _G),
    Theme(("Other",), "promote", "a culture of tolerance and dialogue", _G),
)  # fmt: skip

GERUNDS = {
    "accede to": "acceding to", "accept": "accepting", "address": "addressing", "abolish": "abolishing",
    "adopt": "adopting", "bring": "bringing", "combat": "combating", "commute": "commuting",
    "cooperate": "cooperating", "create": "creating", "criminalise": "criminalising",
    "decriminalise": "decriminalising", "eliminate": "eliminating", "end": "ending", "ensure": "ensuring",
    "eradicate": "eradicating", "establish": "establishing", "extend": "extending", "guarantee": "guaranteeing",
    "harmonise": "harmonising", "hold": "holding", "implement": "implementing", "improve": "improving",
    "include": "including", "increase": "increasing", "integrate": "integrating", "investigate": "investigating",
    "involve": "involving", "lift": "lifting", "prevent": "preventing", "prohibit": "prohibiting",
    "promote": "promoting", "protect": "protecting", "raise": "raising", "ratify": "ratifying", "reduce": "reducing",
    "reform": "reforming", "respect": "respecting", "secure": "securing", "strengthen": "strengthening",
    "submit": "submitting", "train": "training", "withdraw": "withdrawing",
}  # fmt: skip

# Phrasings by action category: (template, weight, themes it suits: "any", "specific" or "general").
# {v} is the verb, {V} the capitalised verb, {g} the gerund, {o} the object.
FRAMES = {
    1: (
        ("Seek technical assistance from the Office of the High Commissioner for Human Rights to {v} {o}", 3, "any"),
        ("Seek the support of the international community in its efforts to {v} {o}", 3, "any"),
        ("Request technical and financial assistance to {v} {o}", 2, "any"),
        ("Share its experience and good practices in {g} {o} with other States", 2, "any"),
        ("Call on the international community to support its efforts to {v} {o}", 1, "any"),
    ),
    2: (
        ("Continue its efforts to {v} {o}", 5, "any"),
        ("Continue to {v} {o}", 4, "any"),
        ("Continue {g} {o}", 1, "general"),
        ("Pursue its efforts to {v} {o}", 2, "any"),
        ("Continue and strengthen its efforts to {v} {o}", 2, "any"),
        ("Continue to take measures to {v} {o}", 1, "any"),
    ),
    3: (
        ("Consider {g} {o}", 6, "any"),
        ("Consider the possibility of {g} {o}", 2, "any"),
        ("Study the possibility of {g} {o}", 2, "any"),
        ("Review its legislation with a view to {g} {o}", 1, "any"),
        ("Explore ways of {g} {o}", 1, "general"),
    ),
    4: (
        ("{V} {o}", 6, "general"),
        ("Take further measures to {v} {o}", 3, "any"),
        ("Take all necessary measures to {v} {o}", 2, "any"),
        ("Intensify its efforts to {v} {o}", 2, "any"),
        ("Redouble its efforts to {v} {o}", 1, "any"),
        ("Take concrete steps to {v} {o}", 2, "any"),
        ("Step up its efforts to {v} {o}", 1, "general"),
    ),
    5: (
        ("{V} {o}", 10, "specific"),
        ("{V} {o} without delay", 2, "specific"),
        ("{V} {o} as a matter of priority", 1, "specific"),
        ("{V} {o} before its next review", 1, "specific"),
    ),
}

# Frames that put a second issue on the recommendation.
FRAME_ISSUES = {
    "Seek technical assistance from the Office of the High Commissioner for Human Rights to {v} {o}": (
        "Technical assistance and cooperation"
    ),
    "Seek the support of the international community in its efforts to {v} {o}": "Technical assistance and cooperation",
    "Request technical and financial assistance to {v} {o}": "Technical assistance and cooperation",
}

# Endings added to some recommendations: (text, weight, themes it suits).
SUFFIXES = (
    ("", 40, "any"),
    (", in line with its international obligations", 4, "any"),
    (", in consultation with civil society", 3, "any"),
    (", as recommended by the treaty bodies", 2, "any"),
    (", in particular in rural areas", 2, "general"),
    (", and allocate sufficient resources to this end", 3, "general"),
    (", with the support of the international community", 1, "general"),
)
# Frames that take no ending: they already say when, or end with whom.
FRAMES_WITHOUT_SUFFIX = {
    "{V} {o} without delay",
    "{V} {o} as a matter of priority",
    "{V} {o} before its next review",
    "Share its experience and good practices in {g} {o} with other States",
}

# Voluntary pledges, by action category; the state's short name precedes them.
PLEDGE_FRAMES = {
    1: ("will seek technical assistance to {v} {o}",),
    2: ("will continue its efforts to {v} {o}", "commits to continue to {v} {o}"),
    3: ("will consider {g} {o}", "will study the possibility of {g} {o}"),
    4: ("commits to taking further measures to {v} {o}", "will step up its efforts to {v} {o}"),
    5: ("commits to {g} {o}", "will {v} {o} before its next review"),
}

# Assessment statuses at mid-term by response: P(partially), P(fully). Calibrated so that the consolidated
# status (majority, ties to the lower) gives about 55% / 19% triggered action and ~10% fully implemented.
MID_TERM_PROBABILITIES = {"accepted": (0.445, 0.105), "noted": (0.15, 0.025), "": (0.445, 0.105)}
# Moves from the mid-term status to the next-review one: (P(one step up), P(two steps up)).
NEXT_REVIEW_PROGRESS = {"not_implemented": (0.25, 0.05), "partially_implemented": (0.35, 0.0)}
# How assessed recommendations are chosen: accepted ones are commented on more often than noted ones.
ASSESSMENT_WEIGHT_BY_RESPONSE = {"accepted": 1.45, "noted": 1.0, "": 1.45}
ASSESSED_SHARE_TARGET = 2.5  # mean assessments per assessed recommendation before every recommendation is assessed
NEXT_REVIEW_SHARE = 0.15
# When assessments are made, in days after the review's adoption: (first day, length of the window).
MID_TERM_WINDOW = (713, 400)  # about two and a half years after (913 days), give or take 200 days
NEXT_REVIEW_WINDOW = (1340, 180)  # in the months before the next review, about 4.5 years after
DISAGREEMENT_SHARE = 0.08  # an organisation reports another status than the recommendation's own
NO_INFORMATION_SHARE = 0.05
VISIBILITY_WEIGHTS = (("public", 85), ("organisation", 10), ("draft", 5))
EVIDENCE_SHARE = 0.35
EMPTY_COMMENT_SHARE = 0.15

COMMENTS = {
    "not_implemented": (
        "No measures have been taken since the review.",
        "The draft law has been pending before parliament since {year}.",
        "The government has not reported any progress.",
        "Announced in {year}, the reform has not started.",
        "Consultations were held but no decision followed.",
        "The situation has worsened since the review.",
        "Budget cuts in {year} stopped the programme.",
        "No information was shared with civil society despite requests.",
    ),
    "partially_implemented": (
        "A national action plan was adopted in {year} but is not funded.",
        "Legislation was amended; implementation remains uneven.",
        "A pilot programme covers only the capital.",
        "The bill passed first reading in {year}.",
        "Some training took place, without follow-up.",
        "Progress in law, less so in practice.",
        "An inter-ministerial committee was set up in {year}.",
        "Steps taken, but the main obstacles remain.",
    ),
    "fully_implemented": (
        "The law entered into force in {year}.",
        "Ratified in {year}.",
        "The institution was established and is operational.",
        "Implemented; the first annual report appeared in {year}.",
        "The policy is in place and funded nationwide.",
        "Done: confirmed by the ministry and by civil society.",
    ),
    "no_information": (
        "No information available.",
        "We could not obtain data on this recommendation.",
        "Outside the scope of our monitoring.",
        "The authorities did not answer our request for information.",
    ),
}

# Organisations: kinds in proportion, and the parts of their (invented) names.
ORGANISATION_KIND_SHARES = (
    ("cso", 0.39),
    ("state", 0.19),
    ("nhri", 0.14),
    ("un_agency", 0.11),
    ("academic", 0.11),
    ("other", 0.06),
)
INVENTED_NAMES = (
    "Meridian", "Lantern", "Keystone", "Baobab", "Northstar", "Tamarind", "Harbour Light", "Cedar Grove", "Open Hands",
    "Bright Horizon", "Silverline", "Tidewater", "Kestrel", "Juniper", "Evergreen", "Granite", "Waypoint", "Marigold",
)  # fmt: skip
CSO_FORMS = ("Coalition", "Network", "Alliance", "Centre", "Forum", "Collective", "Observatory", "Foundation")
CSO_FOCUSES = (
    "for Human Rights Follow-up", "for Women's Equality", "for Children's Rights", "against Torture",
    "for Press Freedom", "for Migrant Justice", "for Disability Rights", "for Fair Trials", "for Land Rights",
    "for Civic Space", "for Minority Rights", "against the Death Penalty",
)  # fmt: skip
NHRI_FORMS = (
    "{state} Commission for Human Rights and Equality",
    "{state} Human Rights Ombuds Office",
    "{state} National Council for Human Rights",
    "{state} Independent Human Rights Board",
)
STATE_FORMS = (
    "Ministry of Justice of {state}",
    "Ministry of Foreign Affairs of {state}",
    "Inter-ministerial Committee on Human Rights of {state}",
    "Office of the Attorney General of {state}",
)
UN_AGENCY_FORMS = ("United Nations Country Team in {state}",)
UN_AGENCY_GLOBAL = (
    "UN Human Rights Follow-up Unit",
    "UN Joint Programme on Rights Monitoring",
    "UN Development Office for Governance",
    "UN Regional Office for Treaty Support",
)
ACADEMIC_FORMS = (
    "{name} University Human Rights Clinic",
    "{name} Institute of Public Law",
    "Centre for Treaty Implementation Research, {name} University",
)
OTHER_FORMS = ("{state} Bar Association Human Rights Section", "{state} Journalists' Union")
FIRST_NAMES = (
    "Amira", "Bruno", "Chen", "Dalia", "Emeka", "Farah", "Gustavo", "Hana", "Ilse", "Jonas", "Kavya", "Luis", "Mariam",
    "Nikolai", "Oluwaseun", "Priya", "Rafael", "Sofia", "Tariq", "Ulla", "Vera", "Wanjiru", "Yusuf", "Zofia",
)  # fmt: skip
LAST_NAMES = (
    "Adeyemi", "Bauer", "Castro", "Dubois", "Eriksen", "Fernandes", "Gallo", "Haddad", "Ivanova", "Jensen", "Kariuki",
    "Lindqvist", "Moreau", "Novak", "Okafor", "Petrov", "Quispe", "Rossi", "Santos", "Tanaka", "Usman", "Varga",
)  # fmt: skip


def _check_vocabulary() -> None:
    """Fail at import, not half-way through a million rows, when a theme lacks a gerund or names no real issue."""
    missing = {theme.verb for theme in THEMES} - GERUNDS.keys()
    if missing:
        raise ValueError(f"no gerund for verbs {sorted(missing)}")
    unknown = {issue for theme in THEMES for issue in theme.issues} - ISSUE_FREQUENCIES.keys()
    if unknown:
        raise ValueError(f"themes name unknown issues {sorted(unknown)}")


_check_vocabulary()
