"""Nationalities of the synthetic population: names, places of birth, routes into Europe.

Invented combinations of common names; no real person is meant. Weights are rough shares of
arrivals, routes name the Member States where a person of that nationality is first recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.codes import Category


@dataclass(frozen=True, slots=True)
class Entry:
    """A way in: the category of the first record and where it happens, with weights."""

    category: Category
    member_states: tuple[tuple[str, float], ...]
    weight: float


@dataclass(frozen=True, slots=True)
class Nationality:
    code: str
    weight: float
    family: tuple[str, ...]
    given_female: tuple[str, ...]
    given_male: tuple[str, ...]
    places: tuple[str, ...]
    entries: tuple[Entry, ...]


_ARABIC_F = ("Amal", "Fatima", "Layla", "Nour", "Huda", "Rania", "Salma", "Yasmin", "Maryam")
_ARABIC_M = ("Ahmad", "Mohammed", "Omar", "Khaled", "Yusuf", "Samir", "Tariq", "Hassan", "Ali")

_CENTRAL_MED_SAR = Entry(Category.SEARCH_AND_RESCUE, (("IT", 0.85), ("MT", 0.15)), 0.6)
_CENTRAL_MED_LAND = Entry(Category.IRREGULAR_CROSSING, (("IT", 1.0),), 0.25)
_EAST_MED = Entry(Category.IRREGULAR_CROSSING, (("GR", 0.7), ("CY", 0.15), ("BG", 0.15)), 0.5)
_EAST_MED_SAR = Entry(Category.SEARCH_AND_RESCUE, (("GR", 1.0),), 0.15)
_BALKANS = Entry(
    Category.IRREGULAR_CROSSING, (("HR", 0.4), ("HU", 0.25), ("RO", 0.15), ("SI", 0.2)), 0.3
)
_EAST_LAND = Entry(Category.IRREGULAR_CROSSING, (("PL", 0.6), ("LT", 0.2), ("LV", 0.2)), 0.1)
_WEST_MED = Entry(Category.IRREGULAR_CROSSING, (("ES", 1.0),), 0.4)
_ATLANTIC_SAR = Entry(Category.SEARCH_AND_RESCUE, (("ES", 1.0),), 0.4)
_RESETTLEMENT = Entry(
    Category.ADMISSION, (("SE", 0.25), ("NL", 0.2), ("FR", 0.2), ("DE", 0.2), ("FI", 0.15)), 0.05
)
_AIR_ES = Entry(Category.APPLICANT, (("ES", 0.85), ("IT", 0.15)), 1.0)
_AIR = Entry(Category.APPLICANT, (("DE", 0.4), ("FR", 0.3), ("NL", 0.15), ("BE", 0.15)), 0.2)
_TEMPORARY = Entry(
    Category.TEMPORARY_PROTECTION,
    (("PL", 0.35), ("DE", 0.3), ("CZ", 0.15), ("IT", 0.05), ("ES", 0.05), ("SK", 0.05),
     ("RO", 0.05)),
    1.0,
)

NATIONALITIES: tuple[Nationality, ...] = (
    Nationality("SYR", 0.14, ("Haddad", "Nasser", "Khoury", "Al-Hamwi", "Darwish", "Shami",
                              "Kassab", "Halabi", "Mansour", "Sabbagh"),
                _ARABIC_F, _ARABIC_M, ("Aleppo", "Damascus", "Homs", "Idlib", "Latakia"),
                (_EAST_MED, _EAST_MED_SAR, _BALKANS, _RESETTLEMENT)),
    Nationality("AFG", 0.12, ("Ahmadzai", "Karimi", "Rahimi", "Hashimi", "Popal", "Safi",
                              "Noori", "Wardak", "Stanikzai", "Amiri"),
                ("Mariam", "Zahra", "Parwana", "Shabnam", "Farzana", "Nilofar", "Habiba"),
                ("Ahmad", "Mohammad", "Abdul", "Farid", "Jawad", "Najib", "Zabihullah"),
                ("Kabul", "Herat", "Kandahar", "Mazar-i-Sharif", "Jalalabad"),
                (_EAST_MED, _BALKANS, _RESETTLEMENT)),
    Nationality("IRQ", 0.05, ("Al-Jubouri", "Al-Obaidi", "Kareem", "Hussein", "Barzani",
                              "Saleh", "Jaff"),
                _ARABIC_F, _ARABIC_M, ("Baghdad", "Mosul", "Erbil", "Basra", "Sulaymaniyah"),
                (_EAST_MED, _BALKANS, _EAST_LAND)),
    Nationality("TUR", 0.05, ("Yilmaz", "Kaya", "Demir", "Sahin", "Celik", "Aydin", "Ozturk"),
                ("Ayse", "Elif", "Zeynep", "Fatma", "Emine", "Hatice"),
                ("Mehmet", "Mustafa", "Ahmet", "Ali", "Huseyin", "Murat"),
                ("Istanbul", "Ankara", "Diyarbakir", "Van", "Gaziantep"),
                (_EAST_MED, _BALKANS, _AIR)),
    Nationality("ERI", 0.04, ("Tesfay", "Gebremedhin", "Haile", "Berhane", "Kidane", "Tekle"),
                ("Selam", "Helen", "Senait", "Rahel", "Luwam", "Yodit"),
                ("Dawit", "Yonas", "Filmon", "Samuel", "Habtom", "Merhawi"),
                ("Asmara", "Keren", "Massawa", "Mendefera"),
                (_CENTRAL_MED_SAR, _RESETTLEMENT)),
    Nationality("SDN", 0.04, ("Abdelrahman", "Osman", "Idris", "Adam", "Babiker", "Elamin"),
                _ARABIC_F, _ARABIC_M, ("Khartoum", "Omdurman", "Nyala", "El Fasher"),
                (_CENTRAL_MED_SAR, _RESETTLEMENT)),
    Nationality("NGA", 0.05, ("Okafor", "Adeyemi", "Eze", "Bello", "Okonkwo", "Ibrahim",
                              "Adebayo", "Nwosu"),
                ("Chiamaka", "Blessing", "Aisha", "Funmilayo", "Ngozi", "Grace"),
                ("Chinedu", "Emeka", "Tunde", "Musa", "Ifeanyi", "Samuel"),
                ("Lagos", "Benin City", "Kano", "Enugu", "Ibadan"),
                (_CENTRAL_MED_SAR, _CENTRAL_MED_LAND)),
    Nationality("GIN", 0.04, ("Diallo", "Barry", "Bah", "Camara", "Sow", "Conde", "Keita"),
                ("Mariama", "Aissatou", "Fatoumata", "Kadiatou", "Hawa"),
                ("Mamadou", "Alpha", "Ibrahima", "Ousmane", "Sekou"),
                ("Conakry", "Labe", "Kankan", "Nzerekore"),
                (_CENTRAL_MED_SAR, _WEST_MED, _ATLANTIC_SAR)),
    Nationality("MLI", 0.03, ("Traore", "Coulibaly", "Keita", "Diarra", "Sissoko", "Toure"),
                ("Aminata", "Awa", "Djeneba", "Oumou", "Kadidia"),
                ("Moussa", "Bakary", "Souleymane", "Adama", "Modibo"),
                ("Bamako", "Kayes", "Segou", "Mopti"),
                (_ATLANTIC_SAR, _WEST_MED)),
    Nationality("MAR", 0.05, ("El Amrani", "Benali", "Bennani", "Alaoui", "Tazi", "Idrissi"),
                ("Khadija", "Fatima-Zahra", "Salma", "Imane", "Hajar"),
                ("Youssef", "Mohamed", "Hamza", "Anas", "Rachid"),
                ("Casablanca", "Tangier", "Fes", "Nador", "Marrakesh"),
                (_WEST_MED, _ATLANTIC_SAR)),
    Nationality("TUN", 0.04, ("Ben Salah", "Trabelsi", "Jebali", "Gharbi", "Mejri", "Ayari"),
                _ARABIC_F, _ARABIC_M, ("Tunis", "Sfax", "Sousse", "Kairouan"),
                (_CENTRAL_MED_SAR, _CENTRAL_MED_LAND)),
    Nationality("EGY", 0.04, ("Abdelaziz", "Mahmoud", "Fathy", "Ibrahim", "Sayed", "Mostafa"),
                _ARABIC_F, _ARABIC_M, ("Cairo", "Alexandria", "Asyut", "Mansoura"),
                (_CENTRAL_MED_SAR,)),
    Nationality("BGD", 0.05, ("Rahman", "Hossain", "Islam", "Ahmed", "Akter", "Chowdhury",
                              "Uddin"),
                ("Nusrat", "Sadia", "Fahima", "Tahmina", "Rumana"),
                ("Rakib", "Sabbir", "Imran", "Mahmud", "Tanvir"),
                ("Dhaka", "Sylhet", "Chittagong", "Khulna"),
                (_CENTRAL_MED_SAR, _BALKANS)),
    Nationality("PAK", 0.04, ("Khan", "Malik", "Butt", "Qureshi", "Chaudhry", "Raza", "Iqbal"),
                ("Ayesha", "Sana", "Hira", "Mehwish", "Fatima"),
                ("Muhammad", "Bilal", "Usman", "Hamza", "Asif"),
                ("Lahore", "Karachi", "Gujrat", "Sialkot", "Peshawar"),
                (_EAST_MED, _BALKANS, _CENTRAL_MED_SAR)),
    Nationality("SOM", 0.03, ("Mohamed", "Abdi", "Hassan", "Warsame", "Farah", "Jama"),
                ("Hodan", "Fadumo", "Sahra", "Ayaan", "Hawa"),
                ("Abdirahman", "Mahad", "Liban", "Abdullahi", "Guled"),
                ("Mogadishu", "Kismayo", "Baidoa", "Hargeisa"),
                (_CENTRAL_MED_SAR, _RESETTLEMENT)),
    Nationality("VEN", 0.06, ("Gonzalez", "Rodriguez", "Perez", "Hernandez", "Garcia",
                              "Martinez", "Rojas"),
                ("Maria", "Daniela", "Valentina", "Andrea", "Gabriela"),
                ("Jose", "Luis", "Carlos", "Jesus", "Miguel"),
                ("Caracas", "Maracaibo", "Valencia", "Barquisimeto"),
                (_AIR_ES,)),
    Nationality("COL", 0.05, ("Lopez", "Ramirez", "Gomez", "Diaz", "Torres", "Castro"),
                ("Laura", "Camila", "Paula", "Natalia", "Juliana"),
                ("Andres", "Juan", "Sebastian", "Felipe", "Diego"),
                ("Bogota", "Medellin", "Cali", "Barranquilla"),
                (_AIR_ES,)),
    Nationality("UKR", 0.14, ("Shevchenko", "Kovalenko", "Bondarenko", "Tkachenko",
                              "Kravchenko", "Melnyk", "Boyko", "Oliinyk"),
                ("Olena", "Iryna", "Nataliia", "Oksana", "Tetiana", "Yuliia"),
                ("Oleksandr", "Andrii", "Serhii", "Dmytro", "Mykola", "Ivan"),
                ("Kyiv", "Kharkiv", "Odesa", "Dnipro", "Lviv", "Mariupol"),
                (_TEMPORARY,)),
)

BY_CODE = {nationality.code: nationality for nationality in NATIONALITIES}
