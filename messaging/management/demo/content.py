"""What the demo data says: the hand-made showcase of five people, and the words generated pins,
boards and people are made of."""

from dataclasses import dataclass, field

# --- The showcase: demo1 … demo5, made by hand ------------------------------------------------

SHOWCASE_USERS = (
    ("demo1", "Ada Moreau", "Collects mid-century furniture and tiny kitchens."),
    ("demo2", "Bram Okafor", "Gardens, ceramics, and anything green."),
    ("demo3", "Chen Li", "Planning a party menu, one pin at a time."),
    ("demo4", "Dana Silva", "Travel sketches and maps."),
    ("demo5", "Eli Novak", "Shared flat, shared boards."),
)


@dataclass(frozen=True)
class ShowcaseBoard:
    owner: str
    name: str
    category: str
    description: str = ""
    is_secret: bool = False
    collaborators: tuple[str, ...] = ()  # accepted
    invited: tuple[str, ...] = ()  # invited, not answered yet


@dataclass(frozen=True)
class ShowcasePin:
    board: str
    title: str
    description: str = ""
    pinner: str = ""  # a collaborator pinning on someone else's board; default: the owner
    saved_from: str = ""  # the title of an earlier showcase pin that the board's owner saves
    comments: tuple[tuple[str, str], ...] = field(default=())  # (author, text)


SHOWCASE_BOARDS = (
    ShowcaseBoard("demo1", "Mid-century living room", "home",
                  "Teak, walnut and a lot of velvet."),
    ShowcaseBoard("demo1", "Gift ideas", "crafts", "Shh.", is_secret=True),
    ShowcaseBoard("demo1", "Our flat", "home", "Ideas for the new place, together.",
                  collaborators=("demo2",), invited=("demo5",)),
    ShowcaseBoard("demo2", "Balcony garden", "garden", "Four square metres, facing south."),
    ShowcaseBoard("demo2", "Ceramics", "crafts", "Glazes I want to try."),
    ShowcaseBoard("demo3", "Party menu", "food", "Saturday, 14 people, one oven."),
    ShowcaseBoard("demo3", "Table settings", "food"),
    ShowcaseBoard("demo4", "Lisbon trip", "travel", "Five days in May."),
    ShowcaseBoard("demo4", "Maps & sketches", "art"),
    ShowcaseBoard("demo5", "Hallway posters", "art", "The long white wall needs help."),
    ShowcaseBoard("demo5", "Autumn outfits", "fashion"),
    ShowcaseBoard("demo5", "Flat inspiration", "home"),
)  # fmt: skip

_BY_BOARD = {
    "Mid-century living room": (
        ShowcasePin("Mid-century living room", "Blue velvet sofa",
                    "Deep blue, low arms, tapered legs. The one.",
                    comments=(("demo5", "That colour!"),
                              ("demo1", "Saving up for it, slowly."))),
        ShowcasePin("Mid-century living room", "Walnut sideboard",
                    "Sliding doors and brass pulls."),
        ShowcasePin("Mid-century living room", "Teak lounge chair"),
        ShowcasePin("Mid-century living room", "Brass floor lamp",
                    "Warm light for the reading corner."),
        ShowcasePin("Mid-century living room", "Rattan pendant light"),
        ShowcasePin("Mid-century living room", "Wool rug in rust and cream",
                    comments=(("demo2", "Would look great with terracotta pots."),)),
        ShowcasePin("Mid-century living room", "Low oak coffee table"),
    ),
    "Gift ideas": (
        ShowcasePin("Gift ideas", "Hand-thrown espresso cups", "For Chen's birthday."),
        ShowcasePin("Gift ideas", "Linen apron"),
        ShowcasePin("Gift ideas", "Cast-iron skillet", "Heavy, but it lasts forever."),
        ShowcasePin("Gift ideas", "Botanical print for Bram", "Don't tell him."),
    ),
    "Our flat": (
        ShowcasePin("Our flat", "Tiny kitchen with open shelving",
                    "Everything within reach, nothing hidden.",
                    comments=(("demo2", "Where do the pans go though?"),
                              ("demo1", "See the pegboard pin."))),
        ShowcasePin("Our flat", "Sage green cabinets"),
        ShowcasePin("Our flat", "Fold-down dining table", "Two chairs, or six.",
                    pinner="demo2"),
        ShowcasePin("Our flat", "Herb rail by the window", pinner="demo2"),
        ShowcasePin("Our flat", "Pegboard for pans"),
    ),
    "Balcony garden": (
        ShowcasePin("Balcony garden", "Terracotta planters",
                    "Unglazed, so the roots can breathe.",
                    comments=(("demo3", "Where did you find the big one?"),
                              ("demo2", "Flea market, Sunday mornings."))),
        ShowcasePin("Balcony garden", "Climbing jasmine on a trellis"),
        ShowcasePin("Balcony garden", "Herb ladder", "Basil, thyme, chives, and mint in a pot."),
        ShowcasePin("Balcony garden", "Tomatoes in grow bags"),
        ShowcasePin("Balcony garden", "Window box of geraniums"),
        ShowcasePin("Balcony garden", "Fern corner in the shade"),
    ),
    "Ceramics": (
        ShowcasePin("Ceramics", "Speckled stoneware mugs", "Oatmeal glaze over a speckled body."),
        ShowcasePin("Ceramics", "Celadon bowls",
                    comments=(("demo1", "These are so calm."),)),
        ShowcasePin("Ceramics", "Wheel-thrown vase"),
        ShowcasePin("Ceramics", "Glaze test tiles", "Cone 6, oxidation."),
        ShowcasePin("Ceramics", "Raku fired platter"),
    ),
    "Party menu": (
        ShowcasePin("Party menu", "Lemon ricotta crostini", "Make the ricotta the day before."),
        ShowcasePin("Party menu", "Charred corn salad",
                    comments=(("demo4", "Made this last week, so good."),)),
        ShowcasePin("Party menu", "Miso glazed aubergine"),
        ShowcasePin("Party menu", "Pavlova with summer berries", "Bake the meringue at night."),
        ShowcasePin("Party menu", "Spiced paloma pitcher"),
        ShowcasePin("Party menu", "Brown butter blondies",
                    comments=(("demo5", "Please bring these."),
                              ("demo3", "Only if you bring the playlist."))),
    ),
    "Table settings": (
        ShowcasePin("Table settings", "Linen napkins with block print"),
        ShowcasePin("Table settings", "Candles in mismatched holders"),
        ShowcasePin("Table settings", "Long table in the garden", "Borrow every chair."),
        ShowcasePin("Table settings", "Dried flower centrepiece"),
    ),
    "Lisbon trip": (
        ShowcasePin("Lisbon trip", "Tram 28 up to Graça", "Go early, before the queues."),
        ShowcasePin("Lisbon trip", "Azulejo tiles in Alfama",
                    comments=(("demo2", "The blues!"),)),
        ShowcasePin("Lisbon trip", "Pastéis de nata at Belém"),
        ShowcasePin("Lisbon trip", "Sunset from Miradouro da Senhora do Monte"),
        ShowcasePin("Lisbon trip", "LX Factory bookshop"),
    ),
    "Maps & sketches": (
        ShowcasePin("Maps & sketches", "Hand-drawn map of Kyoto"),
        ShowcasePin("Maps & sketches", "Watercolour of Porto rooftops"),
        ShowcasePin("Maps & sketches", "Sketchbook page: harbour boats"),
        ShowcasePin("Maps & sketches", "Vintage Alpine trail map"),
    ),
    "Hallway posters": (
        ShowcasePin("Hallway posters", "Bauhaus exhibition poster"),
        ShowcasePin("Hallway posters", "Risograph mountain print", "Two colours, slightly off."),
        ShowcasePin("Hallway posters", "Abstract shapes in ochre"),
        ShowcasePin("Hallway posters", "Typographic poster: Keep going"),
    ),
    "Autumn outfits": (
        ShowcasePin("Autumn outfits", "Oversized wool blazer"),
        ShowcasePin("Autumn outfits", "Corduroy wide-leg trousers"),
        ShowcasePin("Autumn outfits", "Chunky knit cardigan", "Cream, with wooden buttons."),
        ShowcasePin("Autumn outfits", "Striped Breton top"),
    ),
    "Flat inspiration": (
        ShowcasePin("Flat inspiration", "Plywood loft bed", "A desk underneath!"),
        ShowcasePin("Flat inspiration", "Bike hooks in the hallway"),
    ),
}  # fmt: skip

# Saves (repins) of earlier showcase pins, each onto one of the saver's boards.
_SAVES = (
    ShowcasePin("Flat inspiration", "Blue velvet sofa", saved_from="Blue velvet sofa"),
    ShowcasePin("Flat inspiration", "Sage green cabinets", saved_from="Sage green cabinets"),
    ShowcasePin("Table settings", "Speckled stoneware mugs", saved_from="Speckled stoneware mugs"),
    ShowcasePin("Gift ideas", "Celadon bowls", saved_from="Celadon bowls"),
    ShowcasePin("Maps & sketches", "Risograph mountain print",
                saved_from="Risograph mountain print"),
    ShowcasePin("Balcony garden", "Long table in the garden",
                saved_from="Long table in the garden"),
)  # fmt: skip


def _interleaved() -> tuple[ShowcasePin, ...]:
    """Round-robin over the boards, so that any page of the feed shows many of them; each save
    comes a few pins after the pin it saves."""
    queues = [list(pins) for pins in _BY_BOARD.values()]
    order: list[ShowcasePin] = []
    while any(queues):
        for queue in queues:
            if queue:
                order.append(queue.pop(0))
    step = len(order) // (len(_SAVES) + 1)
    for i, save in enumerate(_SAVES):
        source = next(n for n, pin in enumerate(order) if pin.title == save.saved_from)
        order.insert(max(source + 1, step * (i + 1) + i), save)
    return tuple(order)


# Oldest first: this is also the order of their ids.
SHOWCASE_PINS = _interleaved()

# (follower, followee)
SHOWCASE_FOLLOWS = (
    ("demo1", "demo2"), ("demo1", "demo3"), ("demo1", "demo4"),
    ("demo2", "demo1"), ("demo2", "demo3"),
    ("demo3", "demo1"), ("demo3", "demo2"), ("demo3", "demo5"),
    ("demo4", "demo1"),
    ("demo5", "demo1"), ("demo5", "demo2"), ("demo5", "demo4"),
)  # fmt: skip
# (user, board name)
SHOWCASE_BOARD_FOLLOWS = (
    ("demo4", "Party menu"),
    ("demo3", "Balcony garden"),
    ("demo5", "Mid-century living room"),
    ("demo2", "Lisbon trip"),
)

# --- Words for generated data -----------------------------------------------------------------

FIRST_NAMES = (
    "Amara", "Ben", "Carla", "Dev", "Elena", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Kemi",
    "Leo", "Maya", "Nico", "Olga", "Priya", "Quentin", "Rosa", "Sami", "Tara", "Uma", "Victor",
    "Wen", "Yusuf", "Zoe", "Aiko", "Bruno", "Chloe", "Diego", "Esme", "Farah", "Gus", "Hana",
    "Ivan", "Jade", "Kofi", "Lina", "Marek", "Noor", "Oscar",
)  # fmt: skip
LAST_NAMES = (
    "Adler", "Baptiste", "Costa", "Dahl", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito",
    "Jansen", "Kowalski", "Laurent", "Mensah", "Nakamura", "Oduya", "Petrov", "Quinn", "Rossi",
    "Sato", "Tanaka", "Umarov", "Varga", "Weber", "Xu", "Yilmaz", "Zhang", "Bauer", "Moreno",
    "Novak", "Silva",
)  # fmt: skip

CATEGORIES = ("home", "garden", "food", "travel", "fashion", "crafts", "art")

INTERESTS = {
    "home": "small flats", "garden": "balcony gardens", "food": "weeknight cooking",
    "travel": "slow travel", "fashion": "secondhand clothes", "crafts": "making things by hand",
    "art": "prints and posters",
}  # fmt: skip

BIO_TEMPLATES = (
    "Into {a} and {b}.",
    "Mostly {a}. Sometimes {b}.",
    "Collecting ideas about {a}.",
    "",
)

BOARD_NAMES = {
    "home": ("Living room", "Kitchen ideas", "Bedroom", "Small spaces", "Bathroom refresh",
             "Home office", "Entryway"),
    "garden": ("Garden", "Balcony plants", "Houseplants", "Veg patch", "Garden paths"),
    "food": ("Recipes", "Weeknight dinners", "Baking", "Party food", "Breakfast"),
    "travel": ("Travel", "Places to go", "City breaks", "Road trip", "Hikes"),
    "fashion": ("Style", "Outfits", "Capsule wardrobe", "Shoes", "Accessories"),
    "crafts": ("DIY", "Ceramics", "Knitting", "Upcycling", "Gifts to make"),
    "art": ("Art prints", "Illustration", "Posters", "Colour palettes", "Sketchbook"),
}  # fmt: skip

# A title is a word from the first list and a thing from the second: "Blue velvet sofa".
TITLE_WORDS = {
    "home": (
        ("Blue", "Sage green", "Mustard", "Cream", "Rust", "Charcoal", "Blush pink", "Walnut",
         "Oak", "Rattan", "Linen", "Boucle", "Vintage", "Mid-century", "Minimalist", "Cosy",
         "Scandinavian", "Japandi"),
        ("velvet sofa", "reading nook", "armchair", "floor lamp", "bookshelf", "coffee table",
         "pendant light", "rug", "headboard", "kitchen island", "open shelving", "bathroom tiles",
         "gallery wall", "window seat", "dining table", "sideboard", "bedside table",
         "entryway bench"),
    ),
    "garden": (
        ("Terracotta", "Raised", "Hanging", "Climbing", "Potted", "Wild", "Balcony", "Shady",
         "Herb", "Succulent", "Cottage", "Drought-tolerant"),
        ("planters", "herb garden", "tomato beds", "rose arch", "fern corner", "lavender border",
         "vegetable patch", "olive tree", "trellis", "window box", "pond", "gravel path"),
    ),
    "food": (
        ("Lemon", "Miso", "Roasted", "Spiced", "Smoky", "Crispy", "Summer", "Brown butter",
         "Garlic", "Tahini", "Chilli", "Herby"),
        ("pasta", "ramen", "tart", "shakshuka", "focaccia", "salad bowl", "noodles",
         "cheesecake", "galette", "dumplings", "curry", "soup", "flatbreads", "risotto"),
    ),
    "travel": (
        ("Lisbon", "Kyoto", "Oaxaca", "Iceland", "Amalfi", "Marrakech", "Copenhagen",
         "Patagonia", "Hanoi", "Highland", "Sicilian", "Norwegian"),
        ("rooftops", "street food", "coastline", "harbour", "market", "hiking trail", "old town",
         "night market", "tram ride", "hot springs", "fjord", "mountain hut"),
    ),
    "fashion": (
        ("Oversized", "Linen", "Wool", "Striped", "Pleated", "Denim", "Cropped", "Knitted",
         "Corduroy", "Silk", "Camel", "Olive"),
        ("blazer", "trench coat", "midi skirt", "cardigan", "sneakers", "tote bag", "scarf",
         "wide-leg trousers", "shirt dress", "loafers", "raincoat", "jumpsuit"),
    ),
    "crafts": (
        ("Hand-thrown", "Macramé", "Woven", "Embroidered", "Block-printed", "Upcycled",
         "Glazed", "Carved", "Dried flower", "Beeswax", "Quilted", "Felted"),
        ("mugs", "wall hanging", "basket", "napkins", "candles", "bowls", "plant hanger",
         "spoon", "wreath", "tote", "cushion cover", "bookmarks"),
    ),
    "art": (
        ("Abstract", "Botanical", "Risograph", "Watercolour", "Bauhaus", "Linocut", "Ink",
         "Collage", "Charcoal", "Gouache", "Screen-printed", "Minimal"),
        ("poster", "print", "landscape", "portrait study", "pattern", "sketchbook page",
         "still life", "city map", "typography poster", "mural", "postcard", "zine cover"),
    ),
}  # fmt: skip

DESCRIPTIONS = {
    "home": ("Love how the light falls here.", "Would work in a small flat too.",
             "The colours are exactly right.", "Secondhand, restored over a winter.",
             "Cheaper than it looks."),
    "garden": ("Full sun, water twice a week.", "Survived the winter outside.",
               "Grown from seed this spring.", "Bees love it.", "Needs almost no care."),
    "food": ("Ready in thirty minutes.", "Doubles easily for a crowd.",
             "Vegetarian, and nobody noticed.", "Better the next day.",
             "The sauce is the secret."),
    "travel": ("Go early in the morning.", "Best in spring, before the crowds.",
               "Worth the long walk up.", "Take the slow train.", "The view at sunset!"),
    "fashion": ("Found it secondhand.", "Goes with everything.",
                "Wear it with white sneakers.", "The colour for this autumn.",
                "Made to last."),
    "crafts": ("Took a weekend, worth it.", "Pattern linked at the source.",
               "Beginner friendly.", "Made from leftovers.", "A good gift."),
    "art": ("Would look great in the hallway.", "Two colours only.",
            "From a small studio.", "Framed in oak.", "Printed on recycled paper."),
}  # fmt: skip

COMMENTS = (
    "Love this!", "Where is this from?", "Saving this for later.", "The colours!",
    "I have the same one.", "So good.", "Adding this to my list.", "How long did it take?",
    "This is the one.", "Beautiful.", "Need this in my life.", "Great find.",
    "Does it come in green?", "Tried it, can confirm.", "Wow.",
)  # fmt: skip

SOURCE_SITES = ("example.com", "example.org", "example.net")

# --- The showcase conversations ---------------------------------------------------------------


@dataclass(frozen=True)
class ShowcaseMessage:
    """One message, sent through the services. The first message of a conversation names the
    people it goes to (`to`); the others are posted into that conversation. A card is a showcase
    pin (board name, pin title), a showcase board (its name) or a person (a username)."""

    key: str  # stable within its conversation: the message's idempotency key comes from it
    sender: str
    text: str = ""
    to: tuple[str, ...] = ()
    pin: tuple[str, str] | None = None
    board: str = ""
    profile: str = ""
    reply_to: str = ""  # the key of an earlier message in the same conversation


@dataclass(frozen=True)
class ShowcaseConversation:
    key: str
    messages: tuple[ShowcaseMessage, ...]
    name: str = ""  # given by the first message's sender right after it is sent

    @property
    def people(self) -> frozenset[str]:
        first = self.messages[0]
        return frozenset((first.sender, *first.to))


# Oldest first. demo1 has the last two messages of each unread, so the nav badge shows on their
# first login.
SHOWCASE_CONVERSATIONS = (
    ShowcaseConversation("hallway", (
        ShowcaseMessage("poster", "demo1", "Would this work in the hallway?",
                        to=("demo2", "demo3"),
                        pin=("Hallway posters", "Risograph mountain print")),
        ShowcaseMessage("yes", "demo2", "Yes! The blue would look great next to the coat hooks.",
                        reply_to="poster"),
        ShowcaseMessage("dark", "demo3", "Isn't the hallway a bit dark for it?"),
        ShowcaseMessage("measure", "demo1", "Not with the brass lamp on. I'll measure the wall "
                                            "tonight."),
        ShowcaseMessage("party", "demo3", "Unrelated: Saturday! Ideas for the menu welcome.",
                        board="Party menu"),
        ShowcaseMessage("blondies", "demo2", "I can bring these.", reply_to="party",
                        pin=("Party menu", "Brown butter blondies")),
    )),
    ShowcaseConversation("lisbon", (
        ShowcaseMessage("tram", "demo4", "Day one, first thing in the morning. Come with us?",
                        to=("demo1",), pin=("Lisbon trip", "Tram 28 up to Graça")),
        ShowcaseMessage("when", "demo1", "Yes please! Which week in May?"),
        ShowcaseMessage("eli", "demo4", "The second. Eli is coming too, follow him: his "
                                        "hallway posters are great.", profile="demo5"),
        ShowcaseMessage("shoes", "demo4", "Bring good shoes, it's hills all the way."),
    )),
    ShowcaseConversation("flat", (
        ShowcaseMessage("hello", "demo5", "Made us a group for the flat.",
                        to=("demo1", "demo2")),
        ShowcaseMessage("board", "demo1", "Everything's on our board. Eli, accept the invite!",
                        board="Our flat"),
        ShowcaseMessage("table", "demo2", "This one would fit the kitchen wall.",
                        pin=("Our flat", "Fold-down dining table")),
        ShowcaseMessage("chairs", "demo5", "Love it. Six chairs for the party?",
                        reply_to="table"),
    ), name="Flat 3B"),
)  # fmt: skip

# --- Words for generated conversations ----------------------------------------------------------

GROUP_NAMES = (
    "Flat hunting", "Book club", "Allotment", "Wedding ideas", "Lisbon crew", "Sunday market",
    "Kitchen redo", "Birthday plans", "Plant swap", "Climbing Tuesdays", "Studio mates",
    "Road trip", "Supper club", "Garden committee", "Pottery class",
)  # fmt: skip

CHAT_LINES = (
    "Morning!", "Did you see the new one?", "Ha, yes.", "I'm in.", "Sounds good to me.",
    "What time works for you?", "Saturday is better.", "Can't this week, sorry.",
    "On my way.", "Let me check and get back to you.", "That's brilliant.", "Thanks!",
    "Where did you find it?", "I'll bring snacks.", "Still thinking about it.",
    "Any news?", "Sent you the link.", "Perfect.", "Maybe in green?", "Love that.",
    "How much was it?", "Not sure it fits.", "Let's decide tomorrow.", "Good call.",
    "I measured: 140 cm.", "The shop opens at ten.", "Too expensive, keep looking.",
    "Can you ask them?", "Agreed.", "Next weekend then.", "Haha, of course.",
    "Running late, ten minutes.", "Did it arrive?", "Looks even better in person.",
    "Put it on the board so we don't lose it.", "We should go together.",
)  # fmt: skip

# The note that goes with a card, or none.
CARD_NOTES = (
    "", "", "", "Thought of you.", "Look at this one.", "For the flat?", "This!",
    "What do you think?", "Found it.", "Could work?", "Adding to the list.", "Too much?",
)  # fmt: skip

# A reply to a card.
CARD_REPLIES = (
    "Love it!", "Saved it to my board.", "Not my style, but nice.", "Where is this from?",
    "Yes, that one.", "Too big for our place, I think.", "Following now.", "Oh, the colours.",
    "We need this.", "Already have it!", "Could we make it ourselves?", "Let's go there.",
)  # fmt: skip
