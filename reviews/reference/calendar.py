"""The UPR calendar: cycles and Working Group sessions.

Years come from the session list in CeHDI-Foundation/UPR_Maternal-Health_Public (data/upr_sessions.csv, sessions
1–53); session 54 closes the fourth cycle in early 2027 (OHCHR: the fourth cycle runs "Nov. 2022 to Feb. 2027").
A session's dates are given only where a public page states them, with the page named beside them; all other
sessions keep empty dates (the Session model takes both dates or none).
"""

import datetime
from typing import NamedTuple

D = datetime.date


class CycleFact(NamedTuple):
    number: int
    first_session: int
    last_session: int
    start_date: datetime.date
    end_date: datetime.date | None


class SessionFact(NamedTuple):
    number: int
    year: int
    start_date: datetime.date | None = None
    end_date: datetime.date | None = None


# A cycle starts with its first session and ends with its last one where those dates are known, else at the
# bounds of the year.
CYCLES: tuple[CycleFact, ...] = (
    CycleFact(1, 1, 12, D(2008, 4, 7), D(2011, 12, 31)),  # session 12's dates are not known for sure
    CycleFact(2, 13, 26, D(2012, 5, 21), D(2016, 11, 11)),
    CycleFact(3, 27, 40, D(2017, 5, 1), D(2022, 2, 3)),
    CycleFact(4, 41, 54, D(2022, 11, 7), None),  # running
)

SESSIONS: tuple[SessionFact, ...] = (
    SessionFact(1, 2008, D(2008, 4, 7), D(2008, 4, 18)),  # UN Geneva meeting summary, September 2008
    SessionFact(2, 2008, D(2008, 5, 5), D(2008, 5, 16)),  # same
    SessionFact(3, 2008),  # pages disagree: 1–12 or 1–15 December 2008
    SessionFact(4, 2009, D(2009, 2, 2), D(2009, 2, 13)),  # UN Geneva meeting summary, September 2008
    SessionFact(5, 2009, D(2009, 5, 4), D(2009, 5, 15)),  # same
    SessionFact(6, 2009, D(2009, 11, 30), D(2009, 12, 11)),  # same
    SessionFact(7, 2010, D(2010, 2, 8), D(2010, 2, 19)),  # OHCHR news release, 4 February 2010
    SessionFact(8, 2010, D(2010, 5, 3), D(2010, 5, 14)),  # OHCHR background release, 29 April 2010
    SessionFact(9, 2010, D(2010, 11, 1), D(2010, 11, 12)),  # UPR Info, UPR Trax No 12: moved from 22 Nov–3 Dec
    SessionFact(10, 2011),
    SessionFact(11, 2011, D(2011, 5, 2), D(2011, 5, 13)),  # WFUNA, "UPR 11th Session"
    SessionFact(12, 2011),
    SessionFact(13, 2012, D(2012, 5, 21), D(2012, 6, 4)),  # APT news, 21 May 2012; UPR Info, UPR Trax No 28
    SessionFact(14, 2012, D(2012, 10, 22), D(2012, 11, 5)),  # CRIN; UPR Info, UPR Trax No 28
    SessionFact(15, 2013),
    SessionFact(16, 2013),
    SessionFact(17, 2013, D(2013, 10, 21), D(2013, 11, 1)),  # OHCHR press release, 17 October 2013
    SessionFact(18, 2014),
    SessionFact(19, 2014),
    SessionFact(20, 2014, D(2014, 10, 27), D(2014, 11, 7)),  # UPR Info; OHCHR press release, 7 November 2014
    SessionFact(21, 2015, D(2015, 1, 19), D(2015, 1, 30)),  # OHCHR press release, 30 January 2015
    SessionFact(22, 2015, D(2015, 5, 4), D(2015, 5, 15)),  # draft Working Group report A/HRC/WG.6/22/L.10
    SessionFact(23, 2015, D(2015, 11, 2), D(2015, 11, 13)),  # OHCHR background release, 29 October 2015
    SessionFact(24, 2016, D(2016, 1, 18), D(2016, 1, 29)),  # UPR Info, UPR Trax No 69
    SessionFact(25, 2016),
    SessionFact(26, 2016, D(2016, 10, 31), D(2016, 11, 11)),  # OHCHR background release, 26 October 2016
    SessionFact(27, 2017, D(2017, 5, 1), D(2017, 5, 12)),  # UPR Info, UPR Trax No 73
    SessionFact(28, 2017),
    SessionFact(29, 2018, D(2018, 1, 15), D(2018, 1, 26)),  # UN Geneva press release, January 2018
    SessionFact(30, 2018),
    SessionFact(31, 2018, D(2018, 11, 5), D(2018, 11, 16)),  # UPR Info, "31st session of the UPR"
    SessionFact(32, 2019, D(2019, 1, 21), D(2019, 2, 1)),  # UPR Info, "Conclusion of the 32nd Session"
    SessionFact(33, 2019),
    SessionFact(34, 2019),
    SessionFact(35, 2020),
    SessionFact(36, 2020, D(2020, 11, 2), D(2020, 11, 13)),  # OHCHR press release, 29 October 2020 (postponed)
    SessionFact(37, 2021, D(2021, 1, 18), D(2021, 1, 29)),  # IIMA Geneva
    SessionFact(38, 2021, D(2021, 5, 3), D(2021, 5, 14)),  # OHCHR press release, 28 April 2021
    SessionFact(39, 2021),
    SessionFact(40, 2022, D(2022, 1, 24), D(2022, 2, 3)),  # OHCHR press release, 19 January 2022
    SessionFact(41, 2022, D(2022, 11, 7), D(2022, 11, 18)),  # OHCHR press release; UPR Info, 3 November 2022
    SessionFact(42, 2023, D(2023, 1, 23), D(2023, 2, 3)),  # UPR Info, "42nd UPR Working Group: Key Highlights"
    SessionFact(43, 2023, D(2023, 5, 1), D(2023, 5, 12)),  # UPR Info, "43rd UPR Working Group: Key Highlights"
    SessionFact(44, 2023, D(2023, 11, 6), D(2023, 11, 17)),  # OHCHR press release, 1 November 2023
    SessionFact(45, 2024, D(2024, 1, 22), D(2024, 2, 2)),  # UPR Info, "45th UPR Working Group: Key Highlights"
    SessionFact(46, 2024, D(2024, 4, 29), D(2024, 5, 10)),  # OHCHR press release, April 2024
    SessionFact(47, 2024, D(2024, 11, 4), D(2024, 11, 15)),  # UPR Info, "47th UPR Working Group: Key Highlights"
    SessionFact(48, 2025, D(2025, 1, 20), D(2025, 1, 31)),  # OHCHR press release, 15 January 2025
    SessionFact(49, 2025),
    SessionFact(50, 2025),
    SessionFact(51, 2026),
    SessionFact(52, 2026),
    SessionFact(53, 2026),
    SessionFact(54, 2027),
)
