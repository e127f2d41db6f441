"""Intergovernmental organisations that states belong to, as UPR Info's `To-Org`/`From-Org` columns name them.

UPR Info uses twelve acronyms (AU, EU, OIC, OIF, Commonwealth, OAS, OEI, AL, ACS, ASEAN, CIS, PIF); no other
organisation appears in its files, so we load these twelve. Memberships are written from our own knowledge of
today's membership (late 2025), UN member and observer states only, by ISO3 code. UPR Info's files describe
2008–2014, so a few states differ from them (the UK left the EU, Morocco rejoined the AU, ...); the tests count
the differences.
"""

from typing import NamedTuple


class OrganisationFact(NamedTuple):
    acronym: str
    name: str
    members: frozenset[str]


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


ORGANISATIONS: tuple[OrganisationFact, ...] = (
    OrganisationFact(
        "AU",
        "African Union",
        # Every African UN member state, suspended members (Burkina Faso, Gabon, Guinea, Mali, Niger, Sudan)
        # included; Morocco rejoined in 2017.
        _codes(
            "DZA AGO BEN BWA BFA BDI CPV CMR CAF TCD COM COG CIV COD DJI EGY GNQ ERI SWZ ETH GAB GMB GHA GIN GNB KEN"
            " LSO LBR LBY MDG MWI MLI MRT MUS MAR MOZ NAM NER NGA RWA STP SEN SYC SLE SOM ZAF SSD SDN TGO TUN UGA TZA"
            " ZMB ZWE"
        ),
    ),
    OrganisationFact(
        "EU",
        "European Union",
        # The 27 members; the United Kingdom left on 31 January 2020.
        _codes(
            "AUT BEL BGR HRV CYP CZE DNK EST FIN FRA DEU GRC HUN IRL ITA LVA LTU LUX MLT NLD POL PRT ROU SVK SVN ESP"
            " SWE"
        ),
    ),
    OrganisationFact(
        "OIC",
        "Organisation of Islamic Cooperation",
        # 57 members, the State of Palestine among them; Syria's membership is suspended, not ended.
        _codes(
            "AFG ALB DZA AZE BHR BGD BEN BRN BFA CMR TCD COM CIV DJI EGY GAB GMB GIN GNB GUY IDN IRN IRQ JOR KAZ KWT"
            " KGZ LBN LBY MYS MDV MLI MRT MAR MOZ NER NGA OMN PAK PSE QAT SAU SEN SLE SOM SDN SUR SYR TJK TGO TUN TUR"
            " TKM UGA ARE UZB YEM"
        ),
    ),
    OrganisationFact(
        "OIF",
        "Organisation internationale de la Francophonie",
        # Full and associate members (UPR Info lists associates such as Cyprus and Ghana), not observers.
        # Burkina Faso, Mali and Niger announced their withdrawal in March 2025 (effective six months later).
        _codes(
            "ALB AND ARM BEL BEN BGR BDI CPV KHM CMR CAN CAF TCD COM COG COD CIV DJI DMA EGY GNQ FRA GAB GRC GIN GNB"
            " HTI LAO LBN LUX MDG MRT MUS MDA MCO MAR MKD ROU RWA LCA STP SEN SYC CHE TGO TUN VUT VNM"
            " CYP GHA QAT SRB ARE"
        ),
    ),
    OrganisationFact(
        "Commonwealth",
        "Commonwealth of Nations",
        # 56 members; Gabon and Togo joined in 2022, the Maldives rejoined in 2020 and the Gambia in 2018.
        _codes(
            "ATG AUS BHS BGD BRB BLZ BWA BRN CMR CAN CYP DMA SWZ FJI GAB GMB GHA GRD GUY IND JAM KEN KIR LSO MWI MYS"
            " MDV MLT MUS MOZ NAM NRU NZL NGA PAK PNG RWA KNA LCA VCT WSM SYC SLE SGP SLB ZAF LKA TGO TON TTO TUV UGA"
            " GBR TZA VUT ZMB"
        ),
    ),
    OrganisationFact(
        "OAS",
        "Organization of American States",
        # Nicaragua's withdrawal took effect in November 2023 and Venezuela's in April 2019. Cuba is still listed
        # as a member (its 1962 exclusion was lifted in 2009) although it takes no part.
        _codes(
            "ATG ARG BHS BRB BLZ BOL BRA CAN CHL COL CRI CUB DMA DOM ECU SLV GRD GTM GUY HTI HND JAM MEX PAN PRY PER"
            " KNA LCA VCT SUR TTO USA URY"
        ),
    ),
    OrganisationFact(
        "OEI",
        "Organization of Ibero-American States for Education, Science and Culture",
        # The 23 member states of the Organización de Estados Iberoamericanos, Andorra and Equatorial Guinea among them.
        _codes("AND ARG BOL BRA CHL COL CRI CUB DOM ECU SLV GNQ GTM HND MEX NIC PAN PRY PER PRT ESP URY VEN"),
    ),
    OrganisationFact(
        "AL",
        "League of Arab States",
        # 22 members, the State of Palestine among them; Syria was readmitted in May 2023.
        _codes("DZA BHR COM DJI EGY IRQ JOR KWT LBN LBY MRT MAR OMN PSE QAT SAU SOM SDN SYR TUN ARE YEM"),
    ),
    OrganisationFact(
        "ACS",
        "Association of Caribbean States",
        # The 25 member states (associate members are territories, not UN states).
        _codes("ATG BHS BRB BLZ COL CRI CUB DMA DOM SLV GRD GTM GUY HTI HND JAM MEX NIC PAN KNA LCA VCT SUR TTO VEN"),
    ),
    OrganisationFact(
        "ASEAN",
        "Association of Southeast Asian Nations",
        # Timor-Leste became the eleventh member in October 2025.
        _codes("BRN KHM IDN LAO MYS MMR PHL SGP THA VNM TLS"),
    ),
    OrganisationFact(
        "CIS",
        "Commonwealth of Independent States",
        # Georgia left in 2009 and Ukraine stopped taking part in 2018; Turkmenistan is an associate member, as
        # UPR Info records it. Moldova has been leaving the CIS agreements one by one but is still a member.
        _codes("ARM AZE BLR KAZ KGZ MDA RUS TJK UZB TKM"),
    ),
    OrganisationFact(
        "PIF",
        "Pacific Islands Forum",
        # UN member states only (the Cook Islands, Niue, French Polynesia and New Caledonia are members too).
        # Kiribati left in 2022 and came back in 2023.
        _codes("AUS FJI KIR MHL FSM NRU NZL PLW PNG WSM SLB TON TUV VUT"),
    ),
)
