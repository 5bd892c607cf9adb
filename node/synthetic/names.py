"""UK and London name data for synthetic people: forenames by sex and weighted surnames by heritage.

Every name here is a common name drawn from public frequency lists; no combination refers to a
real person. Names are grouped by the heritage they usually come from, so that a generated family
has names that belong together, and each group carries a rough share of London's residents.
Surname weights are relative frequencies within a group (Smith recurs far more often than Lambert).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NameGroup:
    """Names from one heritage, with that heritage's rough share of London residents."""

    key: str
    weight: float
    female: tuple[str, ...]
    male: tuple[str, ...]
    surnames: tuple[tuple[str, int], ...]
    female_surnames: tuple[tuple[str, int], ...] = ()
    """Surnames borne by women only (Begum, Kaur): a woman of the group sometimes uses one."""


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _weighted(text: str) -> tuple[tuple[str, int], ...]:
    """Parse "Smith 100, Jones 75" into (("Smith", 100), ("Jones", 75))."""
    pairs = []
    for entry in text.split(","):
        name, _, weight = entry.strip().rpartition(" ")
        pairs.append((name, int(weight)))
    return tuple(pairs)


ENGLISH = NameGroup(
    key="english",
    weight=0.40,
    female=_split(
        "Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Freya Florence Willow "
        "Evie Poppy Ella Charlotte Daisy Sienna Emily Jessica Chloe Lucy Hannah Megan Holly Ruby "
        "Phoebe Alice Matilda Harriet Sarah Emma Laura Rebecca Rachel Claire Nicola Joanne Kelly "
        "Lisa Michelle Donna Tracey Karen Susan Julie Helen Amanda Louise Victoria Katherine "
        "Elizabeth Margaret Patricia Jean Sheila Brenda Doreen Jacqueline Stacey Leanne Danielle "
        "Gemma Kayleigh Jade Chantelle Abigail Samantha Jennifer Deborah Kimberley Christine"
    ),
    male=_split(
        "Oliver George Harry Noah Jack Leo Arthur Oscar Charlie Freddie Alfie Theo Archie Henry "
        "Thomas Joshua William James Jacob Samuel Daniel Alexander Max Reggie Tommy Ethan Lewis "
        "Callum Jordan Connor Ryan Bradley Liam Jamie Kieran Matthew Christopher Michael David "
        "Paul Mark Andrew Richard Steven Stephen Robert John Peter Anthony Gary Darren Lee Wayne "
        "Craig Dean Simon Ian Keith Terence Kenneth Raymond Brian Roy Alan Benjamin Edward "
        "Nicholas Jonathan Frederick Nathan"
    ),
    surnames=_weighted(
        "Smith 100, Jones 75, Williams 68, Brown 62, Taylor 55, Davies 48, Wilson 42, Evans 38, "
        "Thomas 37, Johnson 40, Roberts 32, Walker 30, Wright 30, Robinson 28, Thompson 30, "
        "White 28, Hughes 24, Edwards 24, Green 24, Hall 24, Wood 22, Harris 23, Lewis 22, "
        "Martin 23, Jackson 22, Clarke 22, Clark 20, Turner 19, Hill 19, Scott 18, Cooper 18, "
        "Morris 17, Ward 17, Moore 17, King 18, Watson 16, Baker 16, Harrison 15, Morgan 15, "
        "Young 15, Allen 15, Mitchell 14, Lee 15, Bell 13, Parker 13, Carter 13, Adams 13, "
        "Shaw 12, Cook 12, Richardson 12, Marshall 11, Bennett 11, Collins 11, Ellis 11, Webb 10, "
        "Chapman 10, Gray 10, Lloyd 10, Palmer 9, Hunt 9, Fisher 8, Holmes 8, Mason 8, Barnes 8, "
        "Knight 8, Butler 8, Russell 8, Fox 7, Pearce 7, Stevens 7, Pearson 7, Hudson 6, Dixon 7, "
        "Fletcher 6, Andrews 6, Gibson 6, Payne 6, Hart 6, Lawrence 7, Harvey 6, Holland 5, "
        "Dawson 5, Cole 6, Sharp 5, Ford 5, Newman 5, Lane 5, Rose 5, Hayes 5, Bailey 7, Owen 6, "
        "Price 7, Griffiths 6, Jenkins 6, Powell 6, Atkinson 5, Barker 5, Cox 6, Lambert 4, "
        "Taylor-Brown 2, Harris-Smith 2, Lloyd-Davies 1, Bennett-Walker 1, Morgan-Jones 1"
    ),
)

IRISH = NameGroup(
    key="irish",
    weight=0.04,
    female=_split(
        "Siobhan Aoife Niamh Ciara Sinead Roisin Orla Bridget Maeve Caoimhe Aisling Eileen "
        "Mairead Saoirse Clodagh Mary Kathleen"
    ),
    male=_split(
        "Sean Patrick Ciaran Declan Eoin Padraig Cormac Niall Conor Cian Oisin Fergal Dermot "
        "Seamus Brendan Kevin Michael"
    ),
    surnames=_weighted(
        "Murphy 20, Kelly 18, O'Brien 15, Byrne 12, Ryan 12, O'Sullivan 10, Walsh 12, "
        "O'Connor 12, McCarthy 10, Doyle 9, Gallagher 8, Brennan 6, Kennedy 7, Lynch 7, Quinn 6, "
        "Fitzgerald 6, Murray 7, Dunne 5, O'Neill 8, Kavanagh 5, McDonagh 4, Connolly 5, Flynn 5, "
        "Daly 5, Nolan 5, Maguire 4, Doherty 6, Reilly 4, Duffy 4, Power 4, Keane 4, Moran 4"
    ),
)

SCOTTISH = NameGroup(
    key="scottish",
    weight=0.03,
    female=_split("Eilidh Kirsty Morag Fiona Catriona Ailsa Mhairi Shona Rhona Isla Heather"),
    male=_split("Angus Hamish Callum Fraser Euan Ross Alasdair Iain Gregor Struan Finlay Duncan"),
    surnames=_weighted(
        "MacDonald 10, Campbell 10, Stewart 9, Robertson 8, Anderson 10, MacLeod 5, Fraser 6, "
        "Reid 7, Ross 6, Paterson 5, Mackenzie 6, Sinclair 4, McKay 4, Cameron 5, Grant 5, "
        "Hamilton 5, Ferguson 5, Kerr 4, Burns 5, Graham 6, Douglas 4, McLean 4"
    ),
)

WEST_AFRICAN = NameGroup(
    key="west-african",
    weight=0.07,
    female=_split(
        "Adaeze Chioma Ngozi Folake Funmilayo Temitope Blessing Precious Abimbola Yetunde Adwoa "
        "Akosua Ama Efua Abena Nneka Ifeoma Chidinma Modupe Titilayo Ayomide Favour Esther "
        "Comfort Amara Zainab Mariama Fatmata"
    ),
    male=_split(
        "Chukwuemeka Oluwaseun Olumide Adebayo Babatunde Tunde Emeka Obinna Chinedu Ikechukwu "
        "Kwame Kofi Kwabena Yaw Kwaku Kojo Femi Segun Damilola Ayodele Tobi Emmanuel Godwin "
        "Samuel Daniel Mohamed Abu"
    ),
    surnames=_weighted(
        "Adeyemi 10, Okafor 9, Okonkwo 7, Adebayo 8, Ogunleye 5, Olaniyan 4, Eze 6, Nwosu 6, "
        "Obi 6, Afolabi 6, Balogun 6, Okoro 5, Mensah 10, Owusu 10, Boateng 9, Asante 7, Osei 9, "
        "Appiah 6, Agyeman 5, Danso 5, Addo 5, Ofori 5, Adjei 5, Akinola 4, Ogunbiyi 4, "
        "Oladipo 4, Bello 5, Okeke 5, Abiola 4, Kamara 6, Sesay 5, Conteh 4, Bangura 4, Jalloh 4"
    ),
)

CARIBBEAN = NameGroup(
    key="caribbean",
    weight=0.05,
    female=_split(
        "Shanice Tanisha Kezia Marcia Beverley Jasmine Keisha Shantelle Latoya Monique Simone "
        "Janelle Paulette Yvonne Hyacinth Merlene Aaliyah Naomi Abigail Tiana"
    ),
    male=_split(
        "Dwayne Delroy Leroy Winston Clive Errol Marlon Andre Jermaine Tyrone Kyle Jaden Tyrese "
        "Kemar Devon Desmond Everton Junior Troy Nathaniel Isaiah Elijah Malachi Kai Reuben"
    ),
    surnames=_weighted(
        "Campbell 10, Brown 12, Williams 12, Francis 8, Grant 7, Henry 7, Thomas 8, Richards 8, "
        "Gordon 6, Reid 7, Simpson 6, Morrison 5, Forbes 5, Bailey 7, Clarke 8, Samuels 6, "
        "Edwards 6, Joseph 8, Baptiste 5, Charles 7, Gayle 4, Nelson 5, Barrett 5, Powell 6, "
        "Wright 6, Spencer 5, Stewart 6, Beckford 3, McKenzie 6, Fearon 3, Daley 4, Bryan 4, "
        "Lindo 3, Hylton 3, Walters 4"
    ),
)

INDIAN = NameGroup(
    key="indian",
    weight=0.07,
    female=_split(
        "Priya Anjali Pooja Neha Sunita Rekha Kiran Simran Harpreet Jaspreet Manpreet Gurpreet "
        "Navdeep Anika Riya Diya Kavya Meera Anaya Nisha Hema Bhavna Shreya Aarti"
    ),
    male=_split(
        "Rahul Amit Vikram Arjun Rohan Aarav Vihaan Krishna Ravi Sanjay Deepak Rajesh Suresh "
        "Harjit Gurdeep Jaswinder Kuldip Manjit Amrit Nikhil Jay Dev Hitesh Mahesh"
    ),
    surnames=_weighted(
        "Patel 100, Shah 40, Singh 45, Sharma 15, Kumar 15, Gill 12, Sandhu 8, Dhillon 7, "
        "Bains 5, Sidhu 5, Mistry 10, Parmar 9, Chauhan 7, Joshi 7, Desai 7, Mehta 8, Thakkar 4, "
        "Pandya 4, Chopra 4, Kapoor 4, Gupta 6"
    ),
    female_surnames=_weighted("Kaur 25"),
)

PAKISTANI = NameGroup(
    key="pakistani",
    weight=0.04,
    female=_split(
        "Aisha Fatima Ayesha Sana Mariam Zara Amira Hina Nadia Parveen Shabana Nazia Sadia Hafsa "
        "Maryam Khadija Iqra Mehwish Rabia Saima"
    ),
    male=_split(
        "Mohammed Muhammad Ahmed Ali Hassan Bilal Imran Usman Omar Zain Ayaan Ibrahim Yusuf Hamza "
        "Adam Zayn Faisal Tariq Kamran Asif Irfan Waqas Adnan"
    ),
    surnames=_weighted(
        "Khan 70, Ahmed 40, Ali 35, Hussain 40, Malik 12, Iqbal 10, Akhtar 10, Butt 8, "
        "Qureshi 8, Chaudhry 8, Rashid 8, Mahmood 10, Mirza 5, Raja 5, Aziz 6, Siddiqui 5, "
        "Javed 5, Anwar 5, Shah 8"
    ),
    female_surnames=_weighted("Bibi 8"),
)

BENGALI = NameGroup(
    key="bengali",
    weight=0.04,
    female=_split(
        "Fatema Nasima Rehana Shirin Ruksana Shamima Taslima Jesmin Hasina Salma Rumana Tahmina "
        "Sumaiya Nusrat Sadia Farhana Laila Anisa Aysha Tasnim Mahira Inaya Raisa Safiya"
    ),
    male=_split(
        "Abdul Mohammed Shahid Jamal Kamal Rahim Karim Abu Habib Rashid Shafiq Sohel Faruk "
        "Jahangir Anwar Rubel Sabbir Tanvir Rayan Ishaq Arif Mizanur Mahbub Shahin Ayan Zakariya"
    ),
    surnames=_weighted(
        "Miah 40, Uddin 35, Ahmed 40, Rahman 35, Islam 25, Ali 25, Hussain 20, Hoque 12, "
        "Choudhury 15, Haque 10, Alam 12, Chowdhury 10, Sheikh 8, Karim 6, Mia 5"
    ),
    female_surnames=_weighted("Begum 60, Khatun 15, Akter 6, Bibi 5"),
)

TURKISH = NameGroup(
    key="turkish",
    weight=0.03,
    female=_split(
        "Ayşe Fatma Elif Zeynep Emine Hatice Meryem Esra Derya Sevgi Gül Nur Dilek Ebru Aylin "
        "Selin Defne Ece Melek Songül Dilan Berfin Zelal"
    ),
    male=_split(
        "Mehmet Mustafa Ahmet Ali Hüseyin Hasan Ibrahim Murat Emre Kemal Cem Deniz Serkan Ozan "
        "Yusuf Erdal Engin Kerem Baran Can Arda Burak Osman Rojhat"
    ),
    surnames=_weighted(
        "Yılmaz 12, Kaya 10, Demir 10, Şahin 8, Çelik 8, Yıldız 7, Öztürk 7, Aydın 7, "
        "Özdemir 6, Arslan 6, Doğan 6, Kılıç 5, Aslan 5, Çetin 5, Kara 5, Koç 5, Kurt 5, "
        "Polat 4, Erdoğan 4, Güler 4, Mustafa 4, Hussein 5, Ibrahim 4"
    ),
)

SOMALI = NameGroup(
    key="somali",
    weight=0.02,
    female=_split(
        "Hodan Sahra Faadumo Hibaq Ayaan Ubah Fadumo Nimco Ifrah Asha Maryan Sagal Amina Hamdi "
        "Idil Deeqa Ladan Najma Muna Khadra"
    ),
    male=_split(
        "Abdi Abdirahman Abdullahi Mohamed Ahmed Hassan Hussein Omar Ismail Mahad Liban Guled "
        "Farah Yusuf Bashir Abdiqani Mukhtar Said Jama Warsame"
    ),
    surnames=_weighted(
        "Mohamed 25, Ali 20, Ahmed 20, Hassan 20, Hussein 12, Omar 12, Abdi 15, Farah 15, "
        "Jama 10, Warsame 8, Osman 10, Ismail 10, Yusuf 10, Aden 10, Abdullahi 10, Egal 4, "
        "Noor 6, Dirie 5, Hersi 5, Duale 4, Elmi 5, Mohamud 8, Nur 5"
    ),
)

EASTERN_EUROPEAN = NameGroup(
    key="eastern-european",
    weight=0.06,
    female=_split(
        "Agnieszka Katarzyna Magdalena Aleksandra Joanna Monika Małgorzata Ewa Anna Natalia "
        "Zuzanna Julia Marta Karolina Oliwia Ioana Andreea Elena Alina Gabriela Ieva Rasa Daiva"
    ),
    male=_split(
        "Piotr Krzysztof Tomasz Paweł Michał Marcin Łukasz Jakub Kacper Mateusz Szymon Filip "
        "Wojciech Andrzej Grzegorz Adrian Bogdan Ionut Andrei Mihai Florin Darius Mantas Tomas "
        "Jonas"
    ),
    surnames=_weighted(
        "Nowak 12, Kowalski 10, Wiśniewski 8, Wójcik 8, Kowalczyk 7, Kamiński 7, "
        "Lewandowski 7, Zieliński 6, Szymański 6, Woźniak 6, Dąbrowski 5, Kozłowski 5, "
        "Jankowski 4, Mazur 5, Krawczyk 4, Popescu 8, Ionescu 6, Popa 6, Stan 4, Dumitru 5, "
        "Radu 4, Kazlauskas 4, Petrauskas 4, Jankauskas 3"
    ),
)

PORTUGUESE = NameGroup(
    key="portuguese",
    weight=0.03,
    female=_split(
        "Ana Maria Beatriz Inês Mariana Joana Catarina Sofia Rita Carla Sandra Fernanda Juliana "
        "Larissa Gabriela"
    ),
    male=_split(
        "João José Pedro Miguel Tiago Rui Nuno Bruno Diogo Gonçalo Ricardo Paulo Luís Carlos "
        "Rafael Lucas Gabriel Mateus"
    ),
    surnames=_weighted(
        "Silva 20, Santos 15, Ferreira 12, Pereira 12, Oliveira 10, Costa 10, Rodrigues 10, "
        "Martins 8, Sousa 8, Fernandes 8, Gonçalves 7, Gomes 7, Lopes 6, Marques 6, Alves 7, "
        "Almeida 5, Ribeiro 5, Pinto 5, Carvalho 5, Teixeira 4, Moreira 4, Correia 4, "
        "Da Silva 6, De Souza 3"
    ),
)

EAST_ASIAN = NameGroup(
    key="east-asian",
    weight=0.03,
    female=_split("Mei Xin Hui Ling Yan Jing Ngoc Lan Huong Linh Mai Ji-woo Min-seo Yuki"),
    male=_split("Wei Jun Hao Jian Ming Tuan Minh Duc Hung Long Kevin Jason Min-jun Hiroshi"),
    surnames=_weighted(
        "Chen 8, Wang 7, Li 8, Zhang 6, Liu 6, Wong 8, Chan 8, Lam 5, Cheung 5, Ng 5, "
        "Nguyen 12, Tran 8, Le 6, Pham 5, Huang 4, Lin 4, Lau 4, Yang 3, Kim 6, Park 4"
    ),
)

MIDDLE_EASTERN = NameGroup(
    key="middle-eastern",
    weight=0.03,
    female=_split("Layla Noor Yasmin Rania Dina Hana Reem Lina Amal Samira Mona Huda Malak Jana"),
    male=_split(
        "Khaled Youssef Omar Tarek Samir Nabil Walid Rami Hadi Adel Mahmoud Yassin Amir Sami "
        "Ziad Ahmad Karim"
    ),
    surnames=_weighted(
        "Hassan 8, Ibrahim 8, Mahmoud 6, Abdullah 6, Saleh 5, Haddad 4, Khalil 5, Mansour 4, "
        "Nasser 4, Hamdan 3, Salem 4, Farouk 3, Aziz 4, Abbas 5, Hamid 5, Rahimi 4, Hosseini 4, "
        "Ahmadi 5, Mohammadi 4, Karimi 3"
    ),
)

SOUTHERN_EUROPEAN = NameGroup(
    key="southern-european",
    weight=0.04,
    female=_split(
        "Giulia Francesca Chiara Lucia Carmen Elena Laura Marta Sofia Camille Chloé Maria "
        "Eleni Georgia Despina"
    ),
    male=_split(
        "Marco Luca Giuseppe Alessandro Javier Carlos Pablo Jorge Antonio Pierre Louis Hugo "
        "Nikos Andreas Georgios Christos Costas"
    ),
    surnames=_weighted(
        "Rossi 5, Russo 4, Ferrari 3, Esposito 3, Bianchi 3, Romano 3, Garcia 6, Rodriguez 4, "
        "Martinez 4, Lopez 4, Fernandez 4, Sanchez 3, Dubois 2, Bernard 2, Moreau 2, "
        "Papadopoulos 4, Georgiou 4, Christodoulou 3, Constantinou 3, Ioannou 3, "
        "Charalambous 3, Michael 4"
    ),
)

NAME_GROUPS: tuple[NameGroup, ...] = (
    ENGLISH,
    IRISH,
    SCOTTISH,
    WEST_AFRICAN,
    CARIBBEAN,
    INDIAN,
    PAKISTANI,
    BENGALI,
    TURKISH,
    SOMALI,
    EASTERN_EUROPEAN,
    PORTUGUESE,
    EAST_ASIAN,
    MIDDLE_EASTERN,
    SOUTHERN_EUROPEAN,
)

NAME_GROUPS_BY_KEY: dict[str, NameGroup] = {group.key: group for group in NAME_GROUPS}


def _union(lists: tuple[tuple[str, ...], ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name for names in lists for name in names))


def _london_surnames() -> tuple[tuple[str, int], ...]:
    """All surnames weighted by group share times frequency within the group, as integers."""
    totals: dict[str, float] = {}
    for group in NAME_GROUPS:
        entries = group.surnames + group.female_surnames
        group_total = sum(weight for _, weight in entries)
        for name, weight in entries:
            totals[name] = totals.get(name, 0.0) + 10_000 * group.weight * weight / group_total
    return tuple((name, max(1, round(total))) for name, total in totals.items())


FEMALE_FORENAMES: tuple[str, ...] = _union(tuple(group.female for group in NAME_GROUPS))
"""Every female forename, each once."""

MALE_FORENAMES: tuple[str, ...] = _union(tuple(group.male for group in NAME_GROUPS))
"""Every male forename, each once."""

SURNAMES: tuple[tuple[str, int], ...] = _london_surnames()
"""Every surname with its London-wide weight (roughly people per 10,000 of the name mix)."""
